import type { ScheduleItemView } from '../../common/ipc.js';
import type { Handlers } from './handler.js';

/** What the Schedules pane uses: the scheduling facade (main/scheduler/scheduling.ts) fits. */
export interface ScheduleHandlerDeps {
  readonly scheduling: { list(): ScheduleItemView[]; remove(id: number): boolean };
}

export function scheduleHandlers(deps: ScheduleHandlerDeps, changed: () => void): Handlers<'schedule.list' | 'schedule.remove'> {
  return {
    'schedule.list': () => deps.scheduling.list(),
    'schedule.remove': ({ id }) => {
      const removed = deps.scheduling.remove(id);
      changed();
      return { removed };
    },
  };
}
