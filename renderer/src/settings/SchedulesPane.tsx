import { AlarmClock, CircleAlert } from 'lucide-react';
import { useCallback, useEffect, useState } from 'react';
import type { ScheduleItemView } from '../../../main/common/ipc.js';
import { revealInvisible } from '../../../main/common/visible-text.js';
import { call } from '../api.js';
import { PlaceholderPane } from './PlaceholderPane.js';

const KIND_WORDS: Readonly<Record<ScheduleItemView['kind'], string>> = { reminder: 'Reminder', briefing: 'Briefing', alert: 'Alert', turn: 'Task' };

/** Reminders, briefings and alerts, soonest first; each can be removed. Added by asking Pavise or `pavise schedule add`. */
export function SchedulesPane() {
  const [items, setItems] = useState<readonly ScheduleItemView[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const load = useCallback(async () => {
    const result = await call((api) => api.listSchedule());
    if (result.ok) {
      setItems(result.value);
      setError(undefined);
    } else setError(result.message);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const remove = async (id: number) => {
    const result = await call((api) => api.removeScheduled({ id }));
    if (!result.ok) setError(result.message);
    await load();
  };

  if (error) {
    return (
      <p className="inline-error" role="alert">
        <CircleAlert size={12} strokeWidth={2} aria-hidden />
        Could not read the schedule: {error}
      </p>
    );
  }
  if (!items) return null;
  if (items.length === 0) {
    return <PlaceholderPane icon={AlarmClock} title="Nothing is scheduled." detail="Ask Pavise “remind me to call Sam tomorrow at 9”, or run pavise schedule add." />;
  }
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label="Scheduled">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">What</th>
            <th scope="col" className="col-kind">Kind</th>
            <th scope="col" className="col-when">When</th>
            <th scope="col" className="col-remove">
              <span className="sr-only">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.id} data-job-id={item.id}>
              <td title={revealInvisible(item.title)}>{revealInvisible(item.title)}</td>
              <td>{KIND_WORDS[item.kind]}{item.status === 'active' ? '' : ` (${item.status})`}</td>
              <td title={item.when}>{item.when}</td>
              <td>
                <button type="button" className="btn btn-small" aria-label={`Remove ${item.title}`} onClick={() => void remove(item.id)}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
