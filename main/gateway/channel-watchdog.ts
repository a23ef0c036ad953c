import type { Channel, ChannelHost, ChannelId } from '../channels/channel.js';

/** When a channel last reported progress, and by when it promised to report again (plus the grace). */
export interface ChannelLiveness {
  readonly lastAliveAt: number;
  readonly dueBy: number;
}

/** How long past its own promise a channel may be silent: the round trip of a request and storing what it read. */
export const DEFAULT_STALL_GRACE_MS = 30_000;

export class ChannelStalledError extends Error {
  constructor(silentMs: number) {
    super(`it stalled: no poll finished for ${Math.round(silentMs / 1000)} s`);
    this.name = 'ChannelStalledError';
  }
}

/**
 * Watches channels for a run that hangs without failing (a long poll that never returns, a read loop that stops
 * waking). A channel that reports liveness through `host.alive` is watched from its first report; missing its own
 * promise by the grace aborts its run and rejects with ChannelStalledError, so the caller restarts it. A channel
 * that never reports is not watched.
 */
export class ChannelWatchdog {
  readonly #liveness = new Map<ChannelId, ChannelLiveness>();

  constructor(private readonly options: { readonly graceMs: number; readonly now: () => number }) {
    if (!Number.isFinite(options.graceMs) || options.graceMs < 0) throw new RangeError(`the stall grace must be a non-negative number of ms, not ${options.graceMs}.`);
  }

  liveness(channel: ChannelId): ChannelLiveness | undefined {
    return this.#liveness.get(channel);
  }

  /** Runs `channel` until it returns, throws, `signal` aborts, or it stalls (rejects with ChannelStalledError). */
  async run(channel: Channel, host: ChannelHost, signal: AbortSignal): Promise<void> {
    const controller = new AbortController();
    const forward = () => controller.abort(signal.reason);
    if (signal.aborted) forward();
    else signal.addEventListener('abort', forward, { once: true });
    let timer: NodeJS.Timeout | undefined;
    let onStall: (error: Error) => void = () => undefined;
    const stalled = new Promise<never>((_resolve, reject) => (onStall = reject));
    const arm = (nextWithinMs: number): void => {
      // A run already given up on may still wake and report: it must not re-arm the watch of its successor.
      if (controller.signal.aborted) return;
      clearTimeout(timer);
      const now = this.options.now();
      const boundMs = Math.max(0, Number.isFinite(nextWithinMs) ? nextWithinMs : 0) + this.options.graceMs;
      this.#liveness.set(channel.id, { lastAliveAt: now, dueBy: now + boundMs });
      timer = setTimeout(() => {
        controller.abort(new ChannelStalledError(boundMs));
        onStall(new ChannelStalledError(this.options.now() - now));
      }, boundMs);
      timer.unref();
    };
    const watched: ChannelHost = {
      ...host,
      alive: (id, nextWithinMs) => {
        if (id === channel.id) arm(nextWithinMs);
      },
    };
    try {
      await Promise.race([channel.run(watched, controller.signal), stalled]);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', forward);
      controller.abort();
    }
  }
}
