import { AlarmClock, CircleAlert, Pause, Pencil, Play, Trash2, Zap } from 'lucide-react';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { ScheduleItemView, SchedulePreview } from '../../../main/common/ipc.js';
import { revealInvisible } from '../../../main/common/visible-text.js';
import { call } from '../api.js';
import { PlaceholderPane } from './PlaceholderPane.js';

const KIND_WORDS: Readonly<Record<ScheduleItemView['kind'], string>> = { reminder: 'Reminder', briefing: 'Briefing', alert: 'Alert', turn: 'Task' };
const RUN_WORDS: Readonly<Record<string, string>> = {
  delivered: 'delivered',
  failed: 'not delivered',
  nothing: 'nothing to say (its check found nothing)',
  running: 'handed to the outbox; waiting for the chat to accept it',
};
/** How long typing pauses before the time is read. */
const PREVIEW_DELAY_MS = 250;

/**
 * Reminders, briefings and alerts, soonest first. A reminder can be added here (text and a time in words, read by
 * the same parser as `pavise schedule add`, shown before it is saved) and edited; any job can be paused, resumed,
 * run now or removed. Everything goes through the core's scheduling functions; the pane holds no rules of its own.
 */
export function SchedulesPane() {
  const [items, setItems] = useState<readonly ScheduleItemView[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [status, setStatus] = useState<string | undefined>(undefined);
  const [editing, setEditing] = useState<number | undefined>(undefined);
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

  /** Says what happened (or why not) and reads the list again. */
  const settle = async (message: string | undefined) => {
    setStatus(message);
    await load();
  };
  const act = async <T,>(run: () => Promise<{ ok: true; value: T } | { ok: false; message: string }>, done: (value: T) => string) => {
    const result = await run();
    await settle(result.ok ? done(result.value) : result.message);
  };
  const remove = (item: ScheduleItemView) => act(() => call((api) => api.removeScheduled({ id: item.id })), () => `Removed “${item.title}”.`);
  const pause = (item: ScheduleItemView, paused: boolean) =>
    act(() => call((api) => api.setScheduledPaused({ id: item.id, paused })), () => `${paused ? 'Paused' : 'Resumed'} “${item.title}”.`);
  const runNow = (item: ScheduleItemView) =>
    act(
      () => call((api) => api.runScheduledNow({ id: item.id })),
      (run) => `Ran “${item.title}”: ${RUN_WORDS[run.status] ?? run.status}${run.status === 'failed' && run.detail ? ` — ${run.detail}` : ''}.`,
    );

  if (error) {
    return (
      <p className="inline-error" role="alert">
        <CircleAlert size={12} strokeWidth={2} aria-hidden />
        Could not read the schedule: {error}
      </p>
    );
  }
  if (!items) return null;
  return (
    <div className="schedules">
      <AddReminder onAdded={(item) => settle(`Added “${item.title}” — ${item.when}.`)} />
      {status && (
        <p className="secondary schedules-status" role="status">
          {status}
        </p>
      )}
      {items.length === 0 ? (
        <PlaceholderPane icon={AlarmClock} title="Nothing is scheduled." detail="Add a reminder above, ask Pavise “remind me to call Sam tomorrow at 9”, or run pavise schedule add." />
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Scheduled">
          <table className="table table-wraps">
            <thead>
              <tr>
                <th scope="col">What</th>
                <th scope="col" className="col-kind">
                  Kind
                </th>
                <th scope="col" className="col-when">
                  When
                </th>
                <th scope="col" className="col-actions">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) =>
                editing === item.id ? (
                  <EditRow key={item.id} item={item} onDone={(message) => {
                      setEditing(undefined);
                      void settle(message);
                    }} onCancel={() => setEditing(undefined)} />
                ) : (
                  <tr key={item.id} data-job-id={item.id} className={item.status === 'paused' ? 'paused' : undefined}>
                    <td title={revealInvisible(item.title)}>
                      <span className="clamp-2">{revealInvisible(item.title)}</span>
                    </td>
                    <td>
                      {KIND_WORDS[item.kind]}
                      {item.status === 'active' || item.status === 'paused' ? '' : ` (${item.status})`}
                    </td>
                    <td title={item.when}>
                      <span className="clamp-2">{item.status === 'paused' ? 'paused' : item.when}</span>
                    </td>
                    <td>
                      <div className="schedule-actions">
                      {item.kind === 'reminder' && (
                        <button type="button" className="icon-button" aria-label={`Edit ${item.title}`} title="Edit" onClick={() => setEditing(item.id)}>
                          <Pencil size={14} strokeWidth={1.75} aria-hidden />
                        </button>
                      )}
                      {item.status === 'paused' ? (
                        <button type="button" className="icon-button" aria-label={`Resume ${item.title}`} title="Resume" onClick={() => void pause(item, false)}>
                          <Play size={14} strokeWidth={1.75} aria-hidden />
                        </button>
                      ) : (
                        <button type="button" className="icon-button" aria-label={`Pause ${item.title}`} title="Pause" onClick={() => void pause(item, true)}>
                          <Pause size={14} strokeWidth={1.75} aria-hidden />
                        </button>
                      )}
                      <button type="button" className="icon-button" aria-label={`Run ${item.title} now`} title="Run now" onClick={() => void runNow(item)}>
                        <Zap size={14} strokeWidth={1.75} aria-hidden />
                      </button>
                      <button type="button" className="icon-button" aria-label={`Remove ${item.title}`} title="Remove" onClick={() => void remove(item)}>
                        <Trash2 size={14} strokeWidth={1.75} aria-hidden />
                      </button>
                      </div>
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** Reads a time in words as the owner types, through the core's parser: what it means, or why it cannot be read. */
function useWhenPreview(when: string): { preview?: SchedulePreview; problem?: string } {
  const [answer, setAnswer] = useState<{ for: string; preview?: SchedulePreview; problem?: string }>({ for: '' });
  useEffect(() => {
    const text = when.trim();
    if (!text) return;
    let current = true;
    const timer = setTimeout(() => {
      void call((api) => api.previewScheduleTime({ when: text })).then((result) => {
        if (current) setAnswer(result.ok ? { for: text, preview: result.value } : { for: text, problem: result.message });
      });
    }, PREVIEW_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [when]);
  return answer.for === when.trim() && when.trim() ? answer : {};
}

function WhenHint({ id, preview, problem }: { id: string; preview?: SchedulePreview; problem?: string }) {
  if (problem) {
    return (
      <p id={id} className="inline-error" role="alert">
        <CircleAlert size={12} strokeWidth={2} aria-hidden />
        {problem}
      </p>
    );
  }
  return (
    <p id={id} className="row-help" aria-live="polite">
      {preview ? `${preview.recurring ? 'Repeats' : 'At'}: ${preview.when}` : 'A time in words: “tomorrow at 9”, “in 20 minutes”, “weekdays at 7:30”.'}
    </p>
  );
}

function AddReminder({ onAdded }: { onAdded: (item: ScheduleItemView) => Promise<void> }) {
  const [text, setText] = useState('');
  const [when, setWhen] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const hint = useWhenPreview(when);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim() || !when.trim()) return;
    setBusy(true);
    const result = await call((api) => api.addScheduled({ text: text.trim(), when: when.trim() }));
    setBusy(false);
    if (!result.ok) {
      // Nothing is saved and nothing typed is lost: the owner fixes the time and adds again.
      setProblem(result.message);
      return;
    }
    setProblem(undefined);
    setText('');
    setWhen('');
    await onAdded(result.value);
  };
  return (
    <form className="schedule-form" aria-label="Add a reminder" onSubmit={(event) => void submit(event)}>
      <div className="schedule-fields">
        <label htmlFor="reminder-text" className="sr-only">
          Remind me to
        </label>
        <input id="reminder-text" className="input" placeholder="Remind me to…" maxLength={1000} value={text} onChange={(event) => setText(event.target.value)} />
        <label htmlFor="reminder-when" className="sr-only">
          When
        </label>
        <input
          id="reminder-when"
          className="input schedule-when"
          placeholder="When, e.g. “tomorrow at 9”"
          maxLength={200}
          aria-describedby="reminder-when-hint"
          value={when}
          onChange={(event) => {
            setWhen(event.target.value);
            setProblem(undefined);
          }}
        />
        <button type="submit" className="btn" disabled={busy || !text.trim() || !when.trim() || hint.problem !== undefined}>
          Add
        </button>
      </div>
      <WhenHint id="reminder-when-hint" {...hint} {...(problem ? { problem } : {})} />
    </form>
  );
}

function EditRow({ item, onDone, onCancel }: { item: ScheduleItemView; onDone: (message: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(item.title);
  const [when, setWhen] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const hint = useWhenPreview(when);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    const newText = text.trim() && text.trim() !== item.title ? text.trim() : undefined;
    const newWhen = when.trim() || undefined;
    if (!newText && !newWhen) return onCancel();
    const result = await call((api) => api.editScheduled({ id: item.id, ...(newText ? { text: newText } : {}), ...(newWhen ? { when: newWhen } : {}) }));
    if (!result.ok) return setProblem(result.message);
    onDone(`Changed “${result.value.title}” — ${result.value.when}.`);
  };
  return (
    <tr data-job-id={item.id} className="editing">
      <td colSpan={4}>
        <form className="schedule-form" aria-label={`Edit ${item.title}`} onSubmit={(event) => void save(event)}>
          <div className="schedule-fields">
            <label htmlFor={`edit-text-${item.id}`} className="sr-only">
              Text
            </label>
            <input id={`edit-text-${item.id}`} className="input" maxLength={1000} value={text} onChange={(event) => setText(event.target.value)} />
            <label htmlFor={`edit-when-${item.id}`} className="sr-only">
              New time
            </label>
            <input
              id={`edit-when-${item.id}`}
              className="input schedule-when"
              placeholder={`Now: ${item.when}`}
              maxLength={200}
              aria-describedby={`edit-when-hint-${item.id}`}
              value={when}
              onChange={(event) => {
                setWhen(event.target.value);
                setProblem(undefined);
              }}
            />
            <button type="submit" className="btn" disabled={hint.problem !== undefined}>
              Save
            </button>
            <button type="button" className="btn" onClick={onCancel}>
              Cancel
            </button>
          </div>
          <WhenHint id={`edit-when-hint-${item.id}`} {...hint} {...(problem ? { problem } : {})} />
        </form>
      </td>
    </tr>
  );
}
