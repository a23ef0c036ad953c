import type { ActivityItem } from '../../common/ipc.js';
import type { ActivityKind, ActivityLog } from '../../permissions/activity-log.js';
import { toActivityItem } from '../snapshot.js';
import type { Handlers } from './handler.js';

export function activityHandlers(activity: Pick<ActivityLog, 'list' | 'verify'>): Handlers<'activity.list' | 'activity.verify'> {
  return {
    'activity.list': (request): ActivityItem[] =>
      activity
        .list({ since: request.sinceMs ?? 0, limit: request.limit ?? 500, ...(request.kind ? { kind: request.kind as ActivityKind } : {}) })
        .filter((row) => !request.decision || row.decision === request.decision)
        .reverse()
        .map(toActivityItem),
    'activity.verify': () => activity.verify(),
  };
}
