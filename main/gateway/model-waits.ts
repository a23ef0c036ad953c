import type { Config } from '../common/config-schema.js';
import type { Emitter } from '../common/emitter.js';
import type { ProviderError, ProviderErrorCode } from '../common/messages.js';
import type { ActivityLog } from '../permissions/activity-log.js';
import type { SecretBroker } from '../permissions/secret-broker.js';
import { waitsForModel, type ModelOutage } from '../runtime/model-outage.js';
import type { TurnOutcome } from '../runtime/turn-runner.js';
import type { ChannelStore, SenderRole, StoredInbound } from '../storage/channel-store.js';
import type { Outbox } from '../storage/outbox.js';

/*
 * Messages wait for the model while it cannot be reached or the account is out of credit (runtime/model-outage.ts
 * says when it may be tried); a message older than the channel's maxAgeMinutes by then is skipped with a notice
 * instead of answered late.
 */

/** Failures no retry fixes until the owner acts (a refused key, a request the provider rejects): told once, not retried. */
const REFUSED: ReadonlySet<ProviderErrorCode> = new Set(['auth', 'bad_request', 'context_overflow', 'missing_key']);

type Role = 'owner' | 'contact';

export interface ModelWaitsDeps {
  readonly config: Pick<Config, 'channels'>;
  readonly channels: Pick<ChannelStore, 'setStatus' | 'waitingForModel'>;
  readonly outbox: Pick<Outbox, 'enqueue'>;
  readonly activity: Pick<ActivityLog, 'append'>;
  readonly events: Pick<Emitter<{ alert: [string] }>, 'emit'>;
  readonly broker: Pick<SecretBroker, 'redact'>;
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** A notice was queued in the outbox. */
  readonly queued: () => void;
  /** Whether the model may be called now; shared with the scheduler, whose jobs wait for the same model. */
  readonly outage: ModelOutage;
}

/**
 * The gateway's side of an unreachable model: whether a turn may call it now, what a turn's failure means for the
 * messages it answered, and the notices the owner gets in the chat; and messages too old to answer when their turn
 * comes (after downtime, or after waiting for the model). Notices go through the outbox marked as notices, so memory
 * never keeps them as Pavise's words.
 */
export class ModelWaits {
  /**
   * Per conversation waiting for the model: the id of its first waiting message, which keys the notices about that wait
   * (one "couldn't reach the model", one "gave up") in the outbox, so a restart does not send them again.
   */
  readonly #waits = new Map<string, number>();
  /** Conversations told the model refused (a bad key), until one of their turns works again. */
  readonly #refusalsTold = new Set<string>();
  /** Messages skipped as too old, reported together once a catch-up settles (per reason). */
  #skipped: Record<'downtime' | 'model', StoredInbound[]> = { downtime: [], model: [] };

  constructor(private readonly deps: ModelWaitsDeps) {}

  /** Whether waiting messages are worth reading back now: the model is up, or its next try is due. */
  due(): boolean {
    return this.deps.outage.due();
  }

  /** See ModelOutage.mayCall: false while the model is down and this message is not the one try. */
  mayCall(ownerWrote = false): false | 'up' | 'try' {
    return this.deps.outage.mayCall(ownerWrote);
  }

  /** See ModelOutage.tried. */
  tried(result: TurnOutcome | undefined, call: 'up' | 'try'): void {
    this.deps.outage.tried(result, call);
  }

  /**
   * After a turn for `batch` (its messages' `role`), run for `message` (`messageRole`): true when its outcome is the
   * answer to send; false when the messages wait for the model (with `message`, when another label kept it out of the
   * batch), stay for `pavise resume` or the next start (paused, stopping), or failed for a reason the owner was told
   * about. Each message keeps its own sender's role.
   */
  settle(result: TurnOutcome, batch: readonly StoredInbound[], role: Role, message: StoredInbound, messageRole: Role): boolean {
    const groups: [readonly StoredInbound[], Role][] = batch.includes(message) ? [[batch, role]] : [[batch, role], [[message], messageRole]];
    const code = result.unanswered ? result.error?.code : undefined;
    if (waitsForModel(code)) {
      for (const [items, itemsRole] of groups) this.wait(items, itemsRole);
      return false;
    }
    if (code === 'paused' || code === 'aborted') {
      for (const [items, itemsRole] of groups) {
        for (const item of items) this.deps.channels.setStatus(item.id, item.status === 'waiting_model' ? 'waiting_model' : 'stored', itemsRole);
      }
      return false;
    }
    if (code !== undefined && REFUSED.has(code) && result.error) {
      for (const [items, itemsRole] of groups) this.#refused(items, itemsRole, result.error);
      return false;
    }
    const first = batch[0];
    const key = first && `${first.channel}:${first.conversationId}`;
    if (key) {
      this.#waits.delete(key);
      this.#refusalsTold.delete(key);
    }
    return true;
  }

  /** Messages wait for the model; the owner hears it once per conversation and wait (the notice is keyed to its first message). */
  wait(batch: readonly StoredInbound[], role: Role): void {
    const first = batch[0];
    if (!first) return;
    for (const item of batch) this.deps.channels.setStatus(item.id, 'waiting_model', role);
    const key = `${first.channel}:${first.conversationId}`;
    if (this.#waits.has(key)) return;
    this.#waits.set(key, first.id);
    if (role !== 'owner') return;
    const minutes = this.deps.config.channels[first.channel].maxAgeMinutes;
    const outage = this.deps.outage.current();
    const reason = outage?.reason ?? 'it did not answer';
    const text = outage?.needsOwner
      ? this.deps.broker.redact(`Pavise can't use the model: ${reason} Your message is kept: I'll answer it once that is done, or tell you if that takes over ${minutes} minutes.`)
      : `Pavise couldn't reach the model (${reason}), so your message isn't answered yet. It is kept: I'll answer when the model is back, or tell you if that takes over ${minutes} minutes.`;
    this.#notice(first, text, `model-down:${first.id}`);
  }

  isStale(message: StoredInbound): boolean {
    return this.deps.now() - message.sentAt > this.deps.config.channels[message.channel].maxAgeMinutes * 60_000;
  }

  /** Too old to answer: stored, not answered. One that waited for the model is closed in its chat, as promised there. */
  skipStale(message: StoredInbound): void {
    this.deps.channels.setStatus(message.id, 'skipped_stale');
    if (message.status !== 'waiting_model') {
      this.#noteSkipped(message, 'downtime');
      return;
    }
    this.#noteSkipped(message, 'model');
    this.#gaveUp(message);
  }

  /** A message that waited for the model became too old to answer: its chat hears it, once per wait. */
  #gaveUp(message: StoredInbound): void {
    const key = `${message.channel}:${message.conversationId}`;
    const firstId = this.#waits.get(key) ?? message.id;
    if (this.deps.channels.waitingForModel(message.channel, message.conversationId).length === 0) this.#waits.delete(key);
    else this.#waits.set(key, firstId);
    if (message.role !== 'owner') return;
    const minutes = this.deps.config.channels[message.channel].maxAgeMinutes;
    const text = `The model stayed unreachable for over ${minutes} minutes, so I won't answer what you sent while it was down. Send it again if it still matters.`;
    this.#notice(message, text, `model-gave-up:${firstId}`);
  }

  /**
   * The messages one turn answers, and whose they are: this one, or, when earlier messages of its conversation wait
   * for the model, those first (oldest first, up to the first with another sender role or `label`; any that became
   * too old to answer are skipped). In a group the owner's and a contact's waiting messages are never one turn, and
   * the turn runs with the role of the messages it answers, not of the one that arrived.
   */
  batchOf(message: StoredInbound, role: Role, label: (item: StoredInbound, role: Role) => string): { batch: StoredInbound[]; role: Role } {
    const waiting = this.deps.channels.waitingForModel(message.channel, message.conversationId).filter((item) => item.id !== message.id);
    if (waiting.length === 0) return { batch: [message], role };
    const candidates: { item: StoredInbound; role: Role }[] = [];
    for (const item of waiting) {
      if (this.isStale(item)) this.skipStale(item);
      else if (item.role === 'owner' || item.role === 'contact') candidates.push({ item, role: item.role });
    }
    candidates.push({ item: message, role });
    candidates.sort((a, b) => a.item.id - b.item.id);
    const labelOf = (entry: { item: StoredInbound; role: Role }): string => `${entry.role}:${label(entry.item, entry.role)}`;
    const head = candidates[0] as { item: StoredInbound; role: Role };
    const batch: StoredInbound[] = [];
    for (const entry of candidates) {
      if (labelOf(entry) !== labelOf(head)) break;
      batch.push(entry.item);
    }
    return { batch, role: head.role };
  }

  /** The model refused the request (a bad key, an invalid request): no retry fixes it, so the owner is told what to do, once. */
  #refused(batch: readonly StoredInbound[], role: Role, error: ProviderError): void {
    const first = batch[0];
    if (!first) return;
    for (const item of batch) this.deps.channels.setStatus(item.id, 'failed', role);
    const key = `${first.channel}:${first.conversationId}`;
    this.#waits.delete(key);
    if (this.#refusalsTold.has(key)) return;
    this.#refusalsTold.add(key);
    // The provider's words may echo what was sent (a header, a key): scrubbed like any reply.
    const summary = this.deps.broker.redact(`Pavise couldn't answer: ${error.message} Send your message again after that.`);
    this.deps.activity.append({ kind: 'system', summary, actor: 'pavise', decision: 'failed', detail: { ids: batch.map((item) => item.id), code: error.code } });
    this.deps.events.emit('alert', summary);
    if (role === 'owner') this.#notice(first, summary, `model-refused:${first.id}`);
  }

  #noteSkipped(message: StoredInbound, why: 'downtime' | 'model'): void {
    const skipped = this.#skipped[why];
    skipped.push(message);
    if (skipped.length > 1) return;
    // Reported once the catch-up settles, as one notice rather than one per message.
    setTimeout(() => {
      const all = this.#skipped[why];
      if (all.length === 0) return;
      this.#skipped[why] = [];
      const senders = [...new Set(all.map((item) => item.senderName ?? item.sender))].slice(0, 5).join(', ');
      const minutes = this.deps.config.channels[message.channel].maxAgeMinutes;
      const messages = `${all.length} message${all.length > 1 ? 's' : ''} older than ${minutes} minutes`;
      const notice =
        why === 'model'
          ? `Skipped ${messages} that waited for the model while it could not be reached (from ${senders}). They are stored; ask me to read them.`
          : `Skipped ${messages} that arrived while Pavise was not running (from ${senders}). They are stored; ask me to read them.`;
      this.deps.activity.append({ kind: 'system', summary: notice, actor: 'pavise', detail: { ids: all.map((item) => item.id) } });
      this.deps.events.emit('alert', notice);
      this.deps.log(notice);
    }, 250).unref();
  }

  #notice(to: StoredInbound, text: string, idempotencyKey: string): void {
    this.deps.outbox.enqueue({ channel: to.channel, conversationId: to.conversationId, text, idempotencyKey, notice: true }, this.deps.now());
    this.deps.queued();
  }
}
