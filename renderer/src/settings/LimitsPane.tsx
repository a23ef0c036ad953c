import { useEffect, useState, type FormEvent } from 'react';
import type { SettingsView } from '../../../main/common/ipc.js';
import { usePavise } from '../store/store.js';
import { describedBy, Group, Row, StatusLine } from './Form.js';
import { limitRange, numberFrom, validateUpdate, type LimitField } from './validate-settings.js';

type Limits = SettingsView['limits'];

const FIELDS: readonly { readonly field: LimitField; readonly label: string; readonly unit: string; readonly help: string; readonly group: 'spend' | 'pacing' | 'approvals' }[] = [
  { field: 'dailySpendUsd', label: 'Daily spend cap', unit: 'USD', help: 'Pavise stops calling the model for the day before a call could pass this.', group: 'spend' },
  { field: 'perRecipientPerMinute', label: 'Per person, per minute', unit: 'messages', help: 'Most messages Pavise sends one person in a minute.', group: 'pacing' },
  { field: 'perRecipientPerHour', label: 'Per person, per hour', unit: 'messages', help: 'Most messages to one person in an hour.', group: 'pacing' },
  { field: 'overallPerHour', label: 'Everyone, per hour', unit: 'messages', help: 'Past this, the circuit breaker stops all sending until you resume.', group: 'pacing' },
  { field: 'approvalTimeoutMinutes', label: 'Approval expires after', unit: 'minutes', help: 'A request you have not answered by then counts as denied.', group: 'approvals' },
];

const toText = (limits: Limits): Record<LimitField, string> => ({
  dailySpendUsd: String(limits.dailySpendUsd),
  perRecipientPerMinute: String(limits.perRecipientPerMinute),
  perRecipientPerHour: String(limits.perRecipientPerHour),
  overallPerHour: String(limits.overallPerHour),
  approvalTimeoutMinutes: String(limits.approvalTimeoutMinutes),
});

export function LimitsPane({ settings }: { readonly settings: SettingsView }) {
  const status = usePavise((state) => state.forms.limits);
  const updateSettings = usePavise((state) => state.updateSettings);
  const [values, setValues] = useState(() => toText(settings.limits));
  const [errors, setErrors] = useState<Record<string, string>>({});
  // Re-read only when a value changed: a settings reload for another reason must not wipe what is being typed.
  const { dailySpendUsd, perRecipientPerMinute, perRecipientPerHour, overallPerHour, approvalTimeoutMinutes } = settings.limits;
  useEffect(
    () => setValues(toText({ dailySpendUsd, perRecipientPerMinute, perRecipientPerHour, overallPerHour, approvalTimeoutMinutes })),
    [dailySpendUsd, perRecipientPerMinute, perRecipientPerHour, overallPerHour, approvalTimeoutMinutes],
  );

  const saved = toText(settings.limits);
  const dirty = FIELDS.some(({ field }) => values[field] !== saved[field]);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const limits = Object.fromEntries(FIELDS.map(({ field }) => [field, numberFrom(values[field])])) as Record<LimitField, number>;
    const found = validateUpdate({ limits });
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    await updateSettings('limits', { limits });
  };

  const field = (spec: (typeof FIELDS)[number]) => {
    const id = `limit-${spec.field}`;
    const error = errors[`limits.${spec.field}`];
    const range = limitRange(spec.field);
    return (
      <Row key={spec.field} label={spec.label} htmlFor={id} help={spec.help} error={error}>
        <span className="number-field">
          {spec.unit === 'USD' ? <span className="number-prefix" aria-hidden>$</span> : null}
          <input
            id={id}
            className="input number"
            inputMode={range.whole ? 'numeric' : 'decimal'}
            value={values[spec.field]}
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy(id, true, error)}
            onChange={(event) => setValues({ ...values, [spec.field]: event.target.value })}
          />
          <span className="number-unit">{spec.unit === 'USD' ? 'a day' : spec.unit}</span>
        </span>
      </Row>
    );
  };

  const count = Object.keys(errors).length;
  return (
    <form onSubmit={(event) => void save(event)} noValidate>
      <Group title="Spending">{FIELDS.filter((spec) => spec.group === 'spend').map(field)}</Group>
      <Group title="Outgoing messages" description="Runaway guards. They can only be tightened below the built-in ceilings.">
        {FIELDS.filter((spec) => spec.group === 'pacing').map(field)}
      </Group>
      <Group
        title="Approvals"
        footer={
          <>
            {count > 0 ? (
              <span className="status-line-text error" role="alert">
                {count === 1 ? 'One value needs fixing' : `${count} values need fixing`} before saving.
              </span>
            ) : (
              <StatusLine status={status} />
            )}
            <button type="submit" className="btn btn-default" disabled={!dirty || status?.state === 'saving'}>
              Save
            </button>
          </>
        }
      >
        {FIELDS.filter((spec) => spec.group === 'approvals').map(field)}
      </Group>
    </form>
  );
}
