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

/** How often a running model or tool call re-reads the pause switch, which another process (`pavise pause`) may have set. */
export const PAUSE_POLL_MS = 1_000;

/** The reason a call stopped by a pause is aborted with (the agent loop reports it as the call's result or the turn's end). */
export class PausedError extends Error {
  override readonly name = 'PausedError';
  constructor() {
    super('Pavise was paused');
  }
}

/**
 * Stops running model and tool calls when Pavise is paused (a model request is aborted mid-stream, a tool is
 * signalled). A pause in this process (the menu bar, settings) aborts them at once; one written by another process
 * (`pavise pause` sets the switch in the shared database) is read every PAUSE_POLL_MS while a call runs. One timer
 * serves every running call, and none runs while no call does.
 */
export class PauseWatch {
  readonly #running = new Set<AbortController>();
  #timer: NodeJS.Timeout | undefined;
  #stopListening: (() => void) | undefined;

  constructor(
    private readonly switches: Pick<Switches, 'get' | 'events'>,
    private readonly pollMs = PAUSE_POLL_MS,
  ) {}

  /** A signal that aborts (with a PausedError) when Pavise is paused, until `stop`; already aborted while paused. */
  watch(): { readonly signal: AbortSignal; stop(): void } {
    const controller = new AbortController();
    if (this.switches.get('paused').on) {
      controller.abort(new PausedError());
      return { signal: controller.signal, stop: () => undefined };
    }
    this.#running.add(controller);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#check(), this.pollMs);
      this.#timer.unref();
      this.#stopListening = this.switches.events.on('set', (name, on) => {
        if (name === 'paused' && on) this.#abortAll();
      });
    }
    return { signal: controller.signal, stop: () => this.#release(controller) };
  }

  #check(): void {
    if (this.switches.get('paused').on) this.#abortAll();
  }

  #abortAll(): void {
    for (const controller of [...this.#running]) {
      controller.abort(new PausedError());
      this.#release(controller);
    }
  }

  #release(controller: AbortController): void {
    this.#running.delete(controller);
    if (this.#running.size > 0 || !this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stopListening?.();
    this.#stopListening = undefined;
  }
}
