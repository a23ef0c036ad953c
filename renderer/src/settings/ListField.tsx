import { X } from 'lucide-react';
import { useState } from 'react';
import { usePavise } from '../store/store.js';
import { describedBy, Row } from './Form.js';

/**
 * A list of short values kept in config.json (hosts, shortcut names): chips with Remove, and a field to add one.
 * `save` answers the problem in words, or undefined when the core saved the new list.
 */
export function ListField({
  id,
  form,
  label,
  help,
  items,
  placeholder,
  itemName,
  save,
}: {
  readonly id: string;
  readonly form: string;
  readonly label: string;
  readonly help: string;
  readonly items: readonly string[];
  readonly placeholder: string;
  readonly itemName: string;
  readonly save: (next: string[]) => Promise<string | undefined>;
}) {
  const status = usePavise((state) => state.forms[form]);
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | undefined>();
  const apply = async (next: string[]) => {
    const problem = await save(next);
    setError(problem);
    return problem === undefined;
  };
  const add = async () => {
    const item = value.trim();
    if (!item) return;
    if (items.includes(item)) return setError(`${item} is already on the list.`);
    if (await apply([...items, item])) setValue('');
  };
  const shownError = error ?? (status?.state === 'error' ? status.message : undefined);
  return (
    <Row label={label} htmlFor={id} help={help} error={shownError}>
      <div className="handles">
        {items.length > 0 ? (
          <ul className="chips" aria-label={label}>
            {items.map((item) => (
              <li key={item} className="chip">
                {item}
                <button type="button" className="chip-remove" aria-label={`Remove ${itemName} ${item}`} onClick={() => void apply(items.filter((other) => other !== item))}>
                  <X size={12} strokeWidth={2} aria-hidden />
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <span className="secondary">None yet</span>
        )}
        <div className="inline-add">
          <input
            id={id}
            className="input"
            placeholder={placeholder}
            autoComplete="off"
            spellCheck={false}
            value={value}
            aria-invalid={shownError ? true : undefined}
            aria-describedby={describedBy(id, true, shownError)}
            onChange={(event) => setValue(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter') {
                event.preventDefault();
                void add();
              }
            }}
          />
          <button type="button" className="btn" aria-label={`Add ${itemName}`} disabled={!value.trim() || status?.state === 'saving'} onClick={() => void add()}>
            Add
          </button>
        </div>
      </div>
    </Row>
  );
}

/** The first problem the IPC contract finds in one field of a settings change, in words. */
export function fieldProblem(errors: Record<string, string>, field: string): string | undefined {
  const key = Object.keys(errors).find((name) => name === field || name.startsWith(`${field}.`));
  return key ? errors[key] : undefined;
}
