import type { Channel, ChannelId } from '../channels/channel.js';
import { channelPlugin } from '../channels/registry.js';
import type { ActivityLog } from '../permissions/activity-log.js';
import type { PermissionGate } from '../permissions/gate.js';
import type { Pacer } from '../permissions/pacing.js';
import type { Outbox, OutboxEntry } from '../storage/outbox.js';
import type { Switches } from '../storage/switches.js';

/** How many outbox entries are read at a time. */
const OUTBOX_PAGE = 100;

export interface OutboxSenderDeps {
  readonly outbox: Outbox;
  readonly switches: Pick<Switches, 'get'>;
  readonly pacer: Pick<Pacer, 'record'>;
  readonly activity: Pick<ActivityLog, 'append'>;
  readonly gate: Pick<PermissionGate, 'checkOutbound'>;
  readonly channels: ReadonlyMap<ChannelId, Channel>;
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** The gateway's run signal, once it runs. */
  readonly signal: () => AbortSignal | undefined;
  /** Tells the owner (the menu bar, the gateway's log): a reply that could not be sent and was given up. */
  readonly alert: (message: string) => void;
}

/**
 * Sends what the outbox holds, in order, through the running channels: one drain at a time, each reply and send
 * passing pacing and the breaker as it leaves, and each sent one recorded in the activity log.
 */
export class OutboxSender {
  #running: Promise<void> | undefined;
  #again = false;

  constructor(private readonly deps: OutboxSenderDeps) {}

  /** The drain running now, if any (the gateway waits for it when it stops). */
  get running(): Promise<void> | undefined {
    return this.#running;
  }

  /** Starts draining, or drains once more after the drain now running (something was queued meanwhile). */
  kick(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.kick();
      }
    });
  }

  async #drain(): Promise<void> {
    const signal = this.deps.signal() ?? new AbortController().signal;
    // A page at a time: after a flood thousands of entries may wait, and each send takes a while.
    // Entries that failed retryably wait their backoff (a send that timed out may have gone out: no resend every sweep).
    for (let page = this.deps.outbox.due(0, OUTBOX_PAGE, this.deps.now()); page.length > 0; page = this.deps.outbox.due(page.at(-1)?.id ?? 0, OUTBOX_PAGE, this.deps.now())) {
      if (!(await this.#sendPage(page, signal))) return;
    }
  }

  /**
   * Sends a page of entries in order; false when draining should stop for now (aborted, paused, a retryable failure).
   * A conversation whose entry did not leave (held, claimed elsewhere) sends no later one in this page (see Outbox.due).
   */
  async #sendPage(page: readonly OutboxEntry[], signal: AbortSignal): Promise<boolean> {
    const stopped = new Set<string>();
    for (const entry of page) {
      if (signal.aborted || this.deps.switches.get('paused').on) return false;
      const channel = this.deps.channels.get(entry.channel);
      if (!channel) continue; // stays pending until that channel runs
      const conversation = JSON.stringify([entry.channel, entry.conversationId]);
      if (stopped.has(conversation)) continue;
      if (!this.#mayLeave(entry) || !this.deps.outbox.claim(entry.id, this.deps.now())) {
        stopped.add(conversation);
        continue;
      }
      const result = await channel.send({ conversationId: entry.conversationId, text: entry.text, idempotencyKey: entry.idempotencyKey }, signal);
      if (result.ok) {
        this.deps.outbox.markSent(entry.id, this.deps.now(), result.externalIds);
        if (!entry.idempotencyKey.startsWith('tool:')) this.deps.pacer.record(entry.channel, entry.conversationId, this.deps.now());
        this.deps.activity.append({
          kind: 'effect',
          summary: `Sent ${entry.channel === 'imessage' ? 'iMessage' : 'Telegram message'} to ${channelPlugin(entry.channel)?.describeTarget(entry.conversationId) ?? entry.conversationId}`,
          tool: 'outbox',
          decision: 'done',
          actor: 'pavise',
          detail: { outboxId: entry.id, key: entry.idempotencyKey, chars: entry.text.length },
        });
      } else {
        const after = this.deps.outbox.markFailed(entry.id, result.message, result.retryable, this.deps.now());
        this.deps.log(`${entry.channel}: sending outbox #${entry.id} failed — ${result.message}`);
        // A reply given up is otherwise silent: the person asked and heard nothing. Scheduled jobs and the message
        // tools report their own sends' failures (the next channel, the turn that sent it).
        if (entry.idempotencyKey.startsWith('reply:') && after?.status === 'failed') {
          const to = channelPlugin(entry.channel)?.describeTarget(entry.conversationId) ?? entry.conversationId;
          this.deps.alert(`A reply to ${to} could not be sent and was given up (${result.message}). It begins: "${entry.text.slice(0, 80)}${entry.text.length > 80 ? '…' : ''}"`);
        }
        if (result.retryable) return false; // try again on the next sweep or reconnect
      }
    }
    return true;
  }

  /** Replies pass the same pacing and breaker as tool sends (tool sends were checked by the gate already). */
  #mayLeave(entry: OutboxEntry): boolean {
    const tripped = this.deps.switches.get('outbound_tripped').on;
    if (entry.idempotencyKey.startsWith('tool:') && !tripped) return true;
    const outbound = this.deps.gate.checkOutbound(entry.channel, entry.conversationId);
    if (outbound.ok) return true;
    this.deps.outbox.hold(entry.id, outbound.reason, this.deps.now());
    return false;
  }
}
