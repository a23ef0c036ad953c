import type { Channel, ChannelHost, ChannelId, ChannelState, ChannelStatus, InboundMessage } from '../../../main/channels/channel.js';

/**
 * A ChannelHost in memory that behaves like the gateway's store: `deliver` stores a message and the cursor
 * together, and storing the same externalId twice is a no-op. Every call is recorded; deliveries can be failed.
 */
export class RecordingHost implements ChannelHost {
  /** Every deliver call, including failed ones. */
  readonly deliveries: { readonly message: InboundMessage; readonly cursor: string }[] = [];
  /** What is stored, by externalId, in first-stored order. */
  readonly stored = new Map<string, InboundMessage>();
  readonly savedCursors: string[] = [];
  readonly statuses: ChannelStatus[] = [];
  /**
   * Decides whether a deliver fails: 'before-store' rejects without storing, 'after-store' stores the message but
   * rejects before the cursor is saved (a crash between the two).
   */
  failDelivery: (message: InboundMessage, attempt: number) => 'before-store' | 'after-store' | undefined = () => undefined;
  private current: string | undefined;

  constructor(cursor?: string) {
    this.current = cursor;
  }

  async deliver(message: InboundMessage, cursor: string): Promise<void> {
    const attempt = this.deliveries.filter((d) => d.message.externalId === message.externalId).length + 1;
    this.deliveries.push({ message, cursor });
    const failure = this.failDelivery(message, attempt);
    if (failure === 'before-store') throw new Error('database is locked');
    if (!this.stored.has(message.externalId)) this.stored.set(message.externalId, message);
    if (failure === 'after-store') throw new Error('database is locked');
    this.current = cursor;
  }

  cursor(channel: ChannelId): string | undefined {
    return channel === 'telegram' ? this.current : undefined;
  }

  saveCursor(_channel: ChannelId, cursor: string): void {
    this.savedCursors.push(cursor);
    this.current = cursor;
  }

  status(status: ChannelStatus): void {
    this.statuses.push(status);
  }

  get state(): ChannelState | undefined {
    return this.statuses.at(-1)?.state;
  }

  get currentCursor(): string | undefined {
    return this.current;
  }

  /** Resolves once `predicate` holds (checked every 5 ms). */
  async waitFor(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!predicate()) {
      if (performance.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; statuses: ${JSON.stringify(this.statuses)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  waitForState(state: ChannelState, timeoutMs?: number): Promise<void> {
    return this.waitFor(() => this.state === state, `state ${state}`, timeoutMs);
  }
}

export interface RunningChannel {
  readonly done: Promise<void>;
  /** Aborts the run and resolves when `run` has returned; rejects if that took longer than `withinMs`. */
  stop(withinMs?: number): Promise<number>;
}

export function startChannel(channel: Channel, host: ChannelHost): RunningChannel {
  const controller = new AbortController();
  let finished = false;
  const done = channel.run(host, controller.signal).then(() => {
    finished = true;
  });
  return {
    done,
    async stop(withinMs = 2_000) {
      const started = performance.now();
      controller.abort();
      const timer = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`run did not return within ${withinMs} ms of the abort`)), withinMs).unref(),
      );
      if (!finished) await Promise.race([done, timer]);
      return performance.now() - started;
    },
  };
}
