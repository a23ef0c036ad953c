import { Check, KeyRound } from 'lucide-react';
import { useState } from 'react';
import { usePavise } from '../store/store.js';
import { StatusLine } from './Form.js';

/**
 * A secret in the Keychain: shows only whether one is stored ("Stored in Keychain ✓") and offers Replace / Remove.
 * A typed value goes to the core once and is cleared; nothing can read it back.
 */
export function SecretField({
  id,
  name,
  label,
  stored,
  store,
}: {
  readonly id: string;
  readonly name: string;
  readonly label: string;
  readonly stored: boolean;
  /** Where the value goes instead of Pavise's own secrets (a skill's settings); each answers true when done. */
  readonly store?: { set(value: string): Promise<boolean>; remove(): Promise<boolean> };
}) {
  const status = usePavise((state) => state.forms[`secret:${name}`]);
  const setOwnSecret = usePavise((state) => state.setSecret);
  const removeOwnSecret = usePavise((state) => state.removeSecret);
  const setSecret = (secret: string, value: string) => (store ? store.set(value) : setOwnSecret(secret, value));
  const removeSecret = (secret: string) => (store ? store.remove() : removeOwnSecret(secret));
  const [mode, setMode] = useState<'view' | 'edit' | 'confirm-remove'>('view');
  const [value, setValue] = useState('');
  const saving = status?.state === 'saving';

  // Not a <form>: the field sits inside other forms (General › Model).
  const save = async () => {
    if (!value || saving) return;
    const ok = await setSecret(name, value);
    if (ok) {
      setValue('');
      setMode('view');
    }
  };

  if (mode === 'edit') {
    return (
      <div className="secret-field editing">
        <input
          id={id}
          className="input secret-input"
          type="password"
          autoComplete="off"
          spellCheck={false}
          autoFocus
          aria-label={`New ${label}`}
          placeholder={`Paste the ${label.toLowerCase()}`}
          value={value}
          onChange={(event) => setValue(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter') {
              event.preventDefault();
              void save();
            } else if (event.key === 'Escape') {
              setValue('');
              setMode('view');
            }
          }}
        />
        <div className="secret-actions">
          <button type="button" className="btn" onClick={() => (setValue(''), setMode('view'))}>
            Cancel
          </button>
          <button type="button" className="btn btn-default" disabled={!value || saving} onClick={() => void save()}>
            {saving ? 'Storing…' : 'Store in Keychain'}
          </button>
        </div>
        {status?.state === 'error' ? <StatusLine status={status} /> : null}
      </div>
    );
  }

  return (
    <div className="secret-field">
      <span className={stored ? 'secret-state stored' : 'secret-state'} id={id}>
        {stored ? (
          <>
            <KeyRound size={12} strokeWidth={2} aria-hidden />
            Stored in Keychain <Check size={12} strokeWidth={2.5} aria-hidden className="secret-check" />
          </>
        ) : (
          'Not set'
        )}
      </span>
      <div className="secret-actions">
        {mode === 'confirm-remove' ? (
          <>
            <span className="secondary">Remove it?</span>
            <button type="button" className="btn" onClick={() => setMode('view')}>
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-danger"
              disabled={saving}
              onClick={() => void removeSecret(name).then((ok) => ok && setMode('view'))}
            >
              Remove
            </button>
          </>
        ) : (
          <>
            <button type="button" className="btn" aria-label={`${stored ? 'Replace' : 'Add'} ${label}`} onClick={() => setMode('edit')}>
              {stored ? 'Replace…' : 'Add…'}
            </button>
            {stored ? (
              <button type="button" className="btn" aria-label={`Remove ${label}`} onClick={() => setMode('confirm-remove')}>
                Remove
              </button>
            ) : null}
          </>
        )}
      </div>
      {status && status.state !== 'idle' && status.state !== 'saving' ? <StatusLine status={status} /> : null}
    </div>
  );
}
