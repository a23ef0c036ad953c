import type { ScheduleItemView, ScheduleRunView } from '../../common/ipc.js';
import type { Scheduling } from '../../scheduler/scheduling.js';
import type { JobRun } from '../../storage/job-store.js';
import type { Handlers } from './handler.js';

/** What the Schedules pane uses: the scheduling facade (main/scheduler/scheduling.ts) the CLI uses too. */
export interface ScheduleHandlerDeps {
  readonly scheduling: Pick<Scheduling, 'list' | 'remove' | 'remindOwner' | 'preview' | 'editReminder' | 'setPaused'>;
  /** Runs a job once now, as `pavise schedule run ID` does (createScheduler(…).runNow). */
  readonly runScheduledNow: (id: number) => Promise<JobRun | undefined>;
}

type ScheduleChannel = 'schedule.list' | 'schedule.remove' | 'schedule.preview' | 'schedule.add' | 'schedule.edit' | 'schedule.setPaused' | 'schedule.runNow';

/** A time the parser could not read is the owner's to fix: said in words, with examples, and nothing is saved. */
function unreadable(error: unknown) {
  if (error instanceof Error && error.name === 'WhenError') return { ok: false as const, code: 'bad_time', message: error.message };
  throw error;
}

const notFound = (id: number) => ({ ok: false as const, code: 'not_found', message: `Nothing scheduled has id #${id} any more; the list shows what is.` });

export function scheduleHandlers(deps: ScheduleHandlerDeps, changed: () => void): Handlers<ScheduleChannel> {
  const after = <T>(value: T): T => {
    changed();
    return value;
  };
  return {
    'schedule.list': (): ScheduleItemView[] => deps.scheduling.list(),
    'schedule.remove': ({ id }) => after({ removed: deps.scheduling.remove(id) }),
    'schedule.preview': ({ when }) => deps.scheduling.preview(when).catch(unreadable),
    // Made in settings, on the Mac: the owner's own reminder (trusted), like `pavise schedule add`.
    'schedule.add': ({ text, when }) => deps.scheduling.remindOwner(text, when).then(after, unreadable),
    'schedule.edit': async ({ id, text, when }) => {
      try {
        const item = await deps.scheduling.editReminder(id, { ...(text === undefined ? {} : { text }), ...(when === undefined ? {} : { when }) });
        return item ? after(item) : notFound(id);
      } catch (error) {
        return unreadable(error);
      }
    },
    'schedule.setPaused': async ({ id, paused }) => {
      const item = await deps.scheduling.setPaused(id, paused);
      return item ? after(item) : notFound(id);
    },
    'schedule.runNow': async ({ id }): Promise<ScheduleRunView | ReturnType<typeof notFound>> => {
      const run = await deps.runScheduledNow(id);
      if (!run) return notFound(id);
      changed();
      return { status: run.status, ...(run.detail ? { detail: run.detail } : {}) };
    },
  };
}
