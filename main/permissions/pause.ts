import type { Switches } from '../storage/switches.js';
import type { ActivityLog } from './activity-log.js';

/**
 * The one pause switch: pausing stops every effect, message and model call; resuming also resets a tripped outbound
 * breaker. Both are recorded in the activity log with who did it. Answers whether anything changed: pausing what is
 * already paused keeps who paused it and when, and resuming what runs (breaker closed) logs nothing.
 */
export function setPaused(deps: { readonly switches: Switches; readonly activity: ActivityLog }, paused: boolean, actor: string): boolean {
  const wasPaused = deps.switches.get('paused').on;
  if (paused ? wasPaused : !wasPaused && !deps.switches.get('outbound_tripped').on) return false;
  deps.switches.set('paused', paused, paused ? `paused by ${actor}` : undefined);
  if (!paused) deps.switches.set('outbound_tripped', false);
  deps.activity.append({ kind: paused ? 'pause' : 'resume', summary: paused ? 'Paused all effects' : 'Resumed', actor });
  return true;
}
