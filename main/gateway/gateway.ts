import { join } from 'node:path';
import type { Channel, ChannelHost, ChannelId, ChannelStatus, InboundMessage } from '../channels/channel.js';
import { channelPlugin } from '../channels/registry.js';
import { DEFAULT_MAX_CHUNK_LENGTH } from '../channels/imessage/split-message.js';
import type { ApprovalView } from '../common/approvals.js';
import type { Config } from '../common/config-schema.js';
import type { Emitter } from '../common/emitter.js';
import { OWNER, type ProviderError, type ProviderErrorCode, type Provenance } from '../common/messages.js';
import { pairingCard, pairingsToDrop, type PairingCodes } from '../identity/pairing.js';
import { roleOf } from '../identity/roles.js';
import type { ActivityLog } from '../permissions/activity-log.js';
import { canonicalJson, sha256Hex } from '../permissions/canonical.js';
import type { ApprovalOutcome, PermissionGate } from '../permissions/gate.js';
import type { Pacer } from '../permissions/pacing.js';
import type { SecretBroker } from '../permissions/secret-broker.js';
import type { TurnOutcome, TurnRunner } from '../runtime/turn-runner.js';
import type { ApprovalStore } from '../storage/approval-store.js';
import type { ChannelStore, SenderRole, StoredInbound } from '../storage/channel-store.js';
import type { Outbox, OutboxEntry } from '../storage/outbox.js';
import type { SessionStore } from '../storage/session-store.js';
import type { Switches } from '../storage/switches.js';
import type { ToolRegistry } from '../tools/registry.js';
import { restartWithBackoff } from '../platform/restart-with-backoff.js';
import { acquireGatewayLock } from './lock.js';
import { ApprovalNotices } from './approval-notices.js';
import { ChannelWatchdog, DEFAULT_STALL_GRACE_MS, type ChannelLiveness } from './channel-watchdog.js';
import { RemoteApprovals } from './remote-approvals.js';

/** What the gateway uses from the core, and nothing more. */
export interface GatewayDeps {
  readonly paths: { readonly home: string };
  readonly config: Config;
  readonly channels: ChannelStore;
  readonly outbox: Outbox;
  readonly sessions: Pick<SessionStore, 'create'>;
  readonly approvals: Pick<ApprovalStore, 'list' | 'live' | 'consume' | 'pending' | 'create' | 'expire' | 'get' | 'expireStale' | 'sessionOf'>;
  readonly activity: Pick<ActivityLog, 'append'>;
  readonly switches: Pick<Switches, 'get'>;
  readonly pacer: Pick<Pacer, 'record'>;
  readonly gate: Pick<PermissionGate, 'checkOutbound' | 'decide'>;
  readonly broker: Pick<SecretBroker, 'redact'>;
  readonly pairing: Pick<PairingCodes, 'consume' | 'noteDropped'>;
  readonly runner: Pick<TurnRunner, 'run'>;
  readonly tools: ToolRegistry;
  readonly contactTools: ToolRegistry;
  readonly events: Pick<Emitter<{ approval: [ApprovalView]; approvalSettled: [ApprovalView, ApprovalOutcome]; alert: [string] }>, 'emit' | 'on'>;
  /** Runs `work` in one database transaction. */
  readonly transaction: <T>(work: () => T) => T;
}

export interface GatewayOptions {
  readonly channels: readonly Channel[];
  readonly now?: () => number;
  /** One line per state change, for the foreground `pavise gateway`. */
  readonly log?: (line: string) => void;
  /** How often paused work, held messages and expired states are re-checked. */
  readonly sweepMs?: number;
  /** Waits before restarting a channel that stopped (tests shorten them). */
  readonly channelRestartDelaysMs?: readonly number[];
  /** How long past its own liveness promise a channel may be silent before it is restarted (tests shorten it). */
  readonly channelStallGraceMs?: number;
  /** How many conversations are handled at once (see MAX_CONCURRENT_CONVERSATIONS). */
  readonly maxConcurrentConversations?: number;
  /** How many stored messages are queued in memory at most (see MAX_QUEUED_MESSAGES). */
  readonly maxQueuedMessages?: number;
  /** The waits before the model is tried again after it could not be reached (see MODEL_RETRY_MS; tests shorten them). */
  readonly modelRetryMs?: { readonly firstMs: number; readonly maxMs: number };
}

const PAIRING_TTL_MS = 60 * 60_000;
/**
 * A burst of thousands of messages must not start thousands of turns at once (each holds its history, a model
 * request and its stream): waiting messages are kept as ids, and only this many conversations run at a time. A
 * turn waiting for an approval holds a slot, so there are a few.
 */
export const MAX_CONCURRENT_CONVERSATIONS = 8;
/**
 * Every inbound message is stored before it is queued, so the database is the real queue: memory holds the ids of
 * at most this many. Beyond it new messages stay stored and are read back in id order, a batch at a time, as the
 * queue drains (a catch-up of a million rows must not hold a million ids).
 */
export const MAX_QUEUED_MESSAGES = 1000;
const OUTBOX_PAGE = 100;
/**
 * When the model cannot be reached, messages wait for it (status `waiting_model`) and one of them tries it again after
 * the first wait, then after twice as long each time it still fails, up to the longest; a message older than the
 * channel's maxAgeMinutes is skipped with a notice instead of answered late.
 */
export const MODEL_RETRY_MS = Object.freeze({ firstMs: 30_000, maxMs: 10 * 60_000 });
/** Failures that pass with time (the provider already retried them a few times): the message waits and is tried again. */
const UNREACHABLE: ReadonlySet<ProviderErrorCode> = new Set(['network', 'server', 'overloaded', 'rate_limit', 'malformed_stream']);
/** Failures no retry fixes until the owner acts (a refused key, a request the provider rejects): told once, not retried. */
const REFUSED: ReadonlySet<ProviderErrorCode> = new Set(['auth', 'bad_request', 'context_overflow', 'missing_key']);
/** How many new senders an hour get `channels.unknownSenderReply`; the rest get nothing. */
export const UNKNOWN_SENDER_LINES_PER_HOUR = 5;
/** How long after a send an identical inbound message in that conversation is taken for its echo (it arrives in seconds). */
const ECHO_WINDOW_MS = 60_000;
/** A part of a sent message this long or longer is an echo of one of its chunks; a shorter one must be a whole message. */
const ECHO_MIN_PART = 100;
/** A sent message longer than this went out in chunks; its last chunk, however short, echoes back on its own. */
const ECHO_CHUNKED_OVER = DEFAULT_MAX_CHUNK_LENGTH;

/**
 * Runs the channels and connects them to the assistant: every inbound message is stored first, mapped to a
 * session per conversation, handled in order per session, and answered through the outbox in the conversation it
 * came from. One gateway per home (a lock file, never a port).
 */
export class Gateway {
  readonly #channels = new Map<ChannelId, Channel>();
  /** Ids waiting or being handled, per conversation in arrival order; a conversation runs one message at a time. */
  readonly #waiting = new Map<string, number[]>();
  /** Conversations with waiting messages and none running, oldest first: the next to get a slot. */
  readonly #ready: string[] = [];
  readonly #queued = new Set<number>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  /** Set when a message was left in the database for want of room; cleared once the queue has read them all back. */
  #overflowed = false;
  /** The highest id queued so far: messages left behind are all newer, so they are read back after it. */
  #lastQueuedId = 0;
  readonly #statuses = new Map<ChannelId, ChannelStatus>();
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  /** Sessions with a turn running, and the chat it came from: where a notice goes when the turn stops for an approval. */
  readonly #turns = new Map<string, { readonly channel: ChannelId; readonly conversationId: string; readonly isGroup: boolean }>();
  readonly #remote: RemoteApprovals;
  readonly #notices: ApprovalNotices;
  readonly #watchdog: ChannelWatchdog;
  #outboxRunning: Promise<void> | undefined;
  #outboxAgain = false;
  #skipped: Record<'downtime' | 'model', StoredInbound[]> = { downtime: [], model: [] };
  /** Messages left stored because their answer could not be sent yet (logged once each). */
  readonly #waitingForPacing = new Set<number>();
  readonly #modelRetry: { readonly firstMs: number; readonly maxMs: number };
  /**
   * Set while the model cannot be reached: no message calls it before `nextTryAt`, and then only one at a time
   * (`trying`), so an outage and a flood of messages cost one model call per wait, not one per message.
   */
  #modelDown: { reason: string; delayMs: number; nextTryAt: number; trying: boolean } | undefined;
  /**
   * Per conversation waiting for the model: the id of its first waiting message, which keys the notices about that wait
   * (one "couldn't reach the model", one "gave up"), in the outbox, so a restart does not send them again.
   */
  readonly #modelWaits = new Map<string, number>();
  /** Conversations told the model refused (a bad key), until one of their turns works again. */
  readonly #refusalsTold = new Set<string>();
  #signal: AbortSignal | undefined;

  constructor(
    private readonly deps: GatewayDeps,
    private readonly options: GatewayOptions,
  ) {
    for (const channel of options.channels) this.#channels.set(channel.id, channel);
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => undefined);
    this.#maxConcurrent = options.maxConcurrentConversations ?? MAX_CONCURRENT_CONVERSATIONS;
    this.#maxQueued = options.maxQueuedMessages ?? MAX_QUEUED_MESSAGES;
    this.#modelRetry = options.modelRetryMs ?? MODEL_RETRY_MS;
    this.#remote = new RemoteApprovals({ config: deps.config, channels: deps.channels, approvals: deps.approvals, gate: deps.gate, now: this.#now });
    this.#notices = new ApprovalNotices({ config: deps.config, remote: this.#remote, log: this.#log });
    this.#watchdog = new ChannelWatchdog({ graceMs: options.channelStallGraceMs ?? DEFAULT_STALL_GRACE_MS, now: this.#now });
    if (!Number.isSafeInteger(this.#maxConcurrent) || this.#maxConcurrent < 1) {
      throw new RangeError(`maxConcurrentConversations must be a positive integer, not ${this.#maxConcurrent}.`);
    }
    if (!Number.isSafeInteger(this.#maxQueued) || this.#maxQueued < 1) {
      throw new RangeError(`maxQueuedMessages must be a positive integer, not ${this.#maxQueued}.`);
    }
  }

  statuses(): ChannelStatus[] {
    return [...this.#statuses.values()];
  }

  /** Each channel's state with its last liveness report, for the heartbeat file `pavise doctor` reads. */
  health(): (ChannelStatus & Partial<ChannelLiveness>)[] {
    return this.statuses().map((status) => ({ ...status, ...this.#watchdog.liveness(status.channel) }));
  }

  /** Messages waiting or being handled, and how many conversations are running now (for tests and diagnostics). */
  load(): { queued: number; running: number; conversations: number } {
    return { queued: this.#queued.size, running: this.#inFlight.size, conversations: this.#waiting.size };
  }

  /** Runs until the signal aborts. Throws GatewayLockedError when another gateway holds this home. */
  async run(signal: AbortSignal): Promise<void> {
    const lock = acquireGatewayLock(join(this.deps.paths.home, 'gateway.lock'));
    this.#signal = signal;
    const stopListening = this.deps.outbox.events.on('queued', () => this.#kickOutbox());
    const stopNotices = this.deps.events.on('approval', (approval) => this.#notify(approval));
    const stopSettled = this.deps.events.on('approvalSettled', (approval, outcome) => this.#notices.settle(approval, outcome, this.#signal ?? new AbortController().signal));
    try {
      for (const entry of this.deps.outbox.recoverInterrupted(this.#now())) {
        this.deps.activity.append({
          kind: 'system',
          summary: `Not re-sending a message interrupted mid-send (outbox #${entry.id}); it may or may not have arrived.`,
          actor: 'pavise',
          detail: { outboxId: entry.id, channel: entry.channel },
        });
      }
      this.#handleBacklog();
      this.#kickOutbox();
      const host = this.#host();
      const runs = [...this.#channels.values()].map((channel) => this.#keepRunning(channel, host, signal));
      const sweep = setInterval(() => this.#sweep(), this.options.sweepMs ?? 5_000);
      sweep.unref();
      try {
        await Promise.all(runs);
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          else signal.addEventListener('abort', () => resolve(), { once: true });
        });
      } finally {
        clearInterval(sweep);
      }
      await Promise.allSettled([...this.#inFlight, this.#outboxRunning]);
    } finally {
      stopListening();
      stopNotices();
      stopSettled();
      lock.release();
    }
  }

  /** A channel that fails, stops by itself or stalls is started again with a growing delay, and the owner is told. */
  #keepRunning(channel: Channel, host: ChannelHost, signal: AbortSignal): Promise<void> {
    return restartWithBackoff((runSignal) => this.#watchdog.run(channel, host, runSignal), signal, {
      ...(this.options.channelRestartDelaysMs ? { delaysMs: this.options.channelRestartDelaysMs } : {}),
      onRestart: (reason, delayMs, attempt) => {
        const notice = `${channel.id} stopped (${reason}); restarting it in ${Math.round(delayMs / 1000)} s${attempt > 1 ? ` (attempt ${attempt})` : ''}.`;
        host.status({ channel: channel.id, state: 'retrying', detail: reason });
        this.deps.activity.append({ kind: 'system', summary: notice, actor: 'pavise', detail: { channel: channel.id, attempt } });
        if (attempt === 1 || attempt % 5 === 0) this.deps.events.emit('alert', notice);
      },
    });
  }

  #host(): ChannelHost {
    return {
      deliver: async (message: InboundMessage, cursor: string) => {
        const id = this.deps.channels.storeInbound(this.#scrubbed(message), cursor, this.#now());
        if (id !== undefined) this.#enqueue(id);
      },
      deliverBatch: async (items) => {
        const scrubbed = items.map((item) => ({ ...item, message: this.#scrubbed(item.message) }));
        for (const id of this.deps.channels.storeInboundBatch(scrubbed, this.#now())) this.#enqueue(id);
      },
      cursor: (channel) => this.deps.channels.cursor(channel),
      saveCursor: (channel, cursor) => this.deps.channels.saveCursor(channel, cursor, this.#now()),
      status: (status) => {
        const previous = this.#statuses.get(status.channel);
        this.#statuses.set(status.channel, status);
        if (previous?.state !== status.state || previous.detail !== status.detail) {
          this.#log(`${status.channel}: ${status.state}${status.detail ? ` — ${status.detail}` : ''}`);
        }
        if (status.state === 'connected') this.#kickOutbox();
      },
      tap: (tap) => this.#remote.tap(tap),
    };
  }

  /** A turn from a chat stopped for an approval: the owner hears at once, in that chat. */
  #notify(approval: ApprovalView): void {
    const sessionId = this.deps.approvals.sessionOf(approval.id);
    const turn = sessionId === undefined ? undefined : this.#turns.get(sessionId);
    const channel = turn && this.#channels.get(turn.channel);
    if (!turn || !channel) return;
    this.#notices.notify(approval, { channel, conversationId: turn.conversationId, isGroup: turn.isGroup }, this.#signal ?? new AbortController().signal);
  }

  /**
   * Messages stored before a crash or while paused are handled first, in order. While messages are queued the
   * backlog is those same messages, so it is read only when the queue is empty.
   */
  #handleBacklog(): void {
    if (this.#queued.size > 0) return;
    this.#overflowed = false;
    this.#readBack(0);
  }

  /** Queues stored, unhandled messages after `afterId` in id order while there is room; notes when some are left. */
  #readBack(afterId: number): void {
    const room = this.#maxQueued - this.#queued.size;
    if (room <= 0) return;
    const waiting = this.deps.channels.unhandledKeys(afterId, room + 1);
    for (const message of waiting.slice(0, room)) this.#enqueue(message.id, `${message.channel}:${message.conversationId}`);
    if (waiting.length > room) this.#overflowed = true;
  }

  #sweep(): void {
    if (this.deps.switches.get('paused').on) return;
    // Messages waiting for the model are read back when it may be tried again, not at every sweep.
    if (!this.#modelDown || this.#now() >= this.#modelDown.nextTryAt) this.#handleBacklog();
    // Held messages get another look at pacing (they are held again if still over a cap).
    if (!this.deps.switches.get('outbound_tripped').on) this.deps.outbox.release(this.#now());
    this.#kickOutbox();
  }

  #enqueue(inboundId: number, knownKey?: string): void {
    if (this.#queued.has(inboundId)) return;
    // Once one message waits in the database, later ones wait behind it there (order within a conversation holds).
    if (this.#overflowed || this.#queued.size >= this.#maxQueued) {
      this.#overflowed = true;
      return;
    }
    let key = knownKey;
    if (key === undefined) {
      const message = this.deps.channels.inbound(inboundId);
      if (!message) return;
      key = `${message.channel}:${message.conversationId}`;
    }
    this.#queued.add(inboundId);
    this.#lastQueuedId = Math.max(this.#lastQueuedId, inboundId);
    const waiting = this.#waiting.get(key);
    if (waiting) waiting.push(inboundId);
    else {
      this.#waiting.set(key, [inboundId]);
      this.#ready.push(key);
    }
    this.#pump();
  }

  /** Starts the next ready conversations while slots are free; after an abort nothing new starts (it stays stored). */
  #pump(): void {
    while (this.#inFlight.size < this.#maxConcurrent && this.#ready.length > 0 && !this.#signal?.aborted) {
      const key = this.#ready.shift() as string;
      const work: Promise<void> = this.#handleNext(key).finally(() => {
        this.#inFlight.delete(work);
        this.#pump();
      });
      this.#inFlight.add(work);
    }
  }

  /** Handles the conversation's oldest waiting message, then lets the other conversations go before its next one. */
  async #handleNext(key: string): Promise<void> {
    const waiting = this.#waiting.get(key) ?? [];
    const inboundId = waiting.shift();
    if (inboundId !== undefined) {
      try {
        await this.#handle(inboundId);
      } catch (error) {
        this.deps.channels.setStatus(inboundId, 'failed');
        this.#log(`error handling message ${inboundId}: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        this.#queued.delete(inboundId);
      }
    }
    if (waiting.length > 0) this.#ready.push(key);
    else this.#waiting.delete(key);
    // Read the next batch back once half the room is free, not one message at a time.
    if (this.#overflowed && this.#queued.size <= this.#maxQueued / 2) {
      this.#overflowed = false;
      this.#readBack(this.#lastQueuedId);
    }
  }

  async #handle(inboundId: number): Promise<void> {
    const message = this.deps.channels.inbound(inboundId);
    if (!message || (message.status !== 'stored' && message.status !== 'processing' && message.status !== 'waiting_model')) return;
    if (this.deps.switches.get('paused').on) return; // stays stored; handled on resume
    const store = this.deps.channels;

    if (message.isFromMe) {
      // Pavise's own sends echo back through chat.db; the owner's own typing on this Mac is not a command either.
      const own = this.deps.outbox.sentRecently(message.channel, message.conversationId, message.text, message.sentAt - 10 * 60_000);
      store.setStatus(message.id, 'ignored', 'self');
      if (!own) this.#log(`${message.channel}: ignored a message sent from this Mac's own account`);
      return;
    }
    // The same echo from the other side: a message to the owner's own number (a self-chat) arrives again as theirs,
    // not as is_from_me. Answering it would answer Pavise's own reply, then that reply's echo, for ever. Only iMessage
    // echoes: a Telegram bot never receives its own messages, so there a match is the owner's own words.
    if (
      message.channel === 'imessage' &&
      this.deps.outbox.sentRecently(message.channel, message.conversationId, message.text, message.sentAt - ECHO_WINDOW_MS, ECHO_MIN_PART, ECHO_CHUNKED_OVER)
    ) {
      store.setStatus(message.id, 'ignored', 'self');
      this.#log(`${message.channel}: ignored a message that repeats what Pavise just sent there (its own echo)`);
      return;
    }
    if (message.kind !== 'message' && message.kind !== 'forwarded') {
      store.setStatus(message.id, 'ignored');
      return;
    }
    if (this.#isStale(message)) {
      this.#skipStale(message);
      return;
    }
    const role = roleOf(this.deps.config, store, message.channel, message.sender);
    if (message.isGroup && !message.addressesAssistant) {
      store.setStatus(message.id, 'ignored', role);
      return;
    }
    if (role === 'stranger') {
      await this.#handleStranger(message);
      return;
    }
    // An answer that could not leave now (the chat's pacing cap, the breaker) is not worth a model call: a burst from
    // one chat would spend the day's cap on replies the outbox then holds. The message stays stored; the sweep looks
    // again, and one older than maxAgeMinutes is skipped with a notice, like any stale message.
    const outbound = this.deps.gate.checkOutbound(message.channel, message.conversationId);
    if (!outbound.ok) {
      if (!this.#waitingForPacing.has(message.id)) this.#log(`${message.channel}: message ${message.id} waits; its answer could not be sent now (${outbound.reason})`);
      this.#waitingForPacing.add(message.id);
      return;
    }
    this.#waitingForPacing.delete(message.id);
    await this.#turn(message, role);
  }

  async #turn(message: StoredInbound, role: 'owner' | 'contact'): Promise<void> {
    const store = this.deps.channels;
    if (!this.#mayCallModel()) {
      this.#waitForModel([message], role);
      return;
    }
    let batch: StoredInbound[] = [message];
    let result: TurnOutcome | undefined;
    try {
      batch = this.#batchOf(message, role);
      result = await this.#run(batch[0] ?? message, batch, role);
    } finally {
      // Whatever happened, the try this turn claimed ends here (a failure to even start it must not block the next).
      this.#modelTried(result);
    }
    const first = batch[0] ?? message;
    // When this message is not in the batch (another label than those that waited), it waits behind them.
    const waiting = batch.includes(message) ? batch : [...batch, message];
    const key = `${message.channel}:${message.conversationId}`;
    const code = result.unanswered ? result.error?.code : undefined;
    if (code !== undefined && (UNREACHABLE.has(code) || code === 'paused' || code === 'aborted')) {
      // Unreachable: it waits for the model. Paused or stopping: it stays as it was, for `pavise resume` or the next start.
      if (UNREACHABLE.has(code)) this.#waitForModel(waiting, role);
      else for (const item of batch) store.setStatus(item.id, item.status === 'waiting_model' ? 'waiting_model' : 'stored', role);
      return;
    }
    if (code !== undefined && REFUSED.has(code) && result.error) {
      this.#refused(batch, role, result.error);
      return;
    }
    this.#modelWaits.delete(key);
    this.#refusalsTold.delete(key);
    // An error's text is a notice about Pavise, not something the assistant said: memory does not keep it as such.
    const reply = this.deps.broker.redact(result.reply || (result.error && role === 'owner' ? result.error.message : ''));
    const notice = !result.reply;
    this.deps.transaction(() => {
      if (reply.trim()) {
        this.deps.outbox.enqueue({ channel: message.channel, conversationId: message.conversationId, text: reply, idempotencyKey: `reply:${first.id}`, notice }, this.#now());
      }
      for (const item of batch) store.setStatus(item.id, 'answered');
    });
    this.#kickOutbox();
    // This message carried another label than those that waited before it: it gets its own turn, after theirs.
    if (waiting !== batch) await this.#turn(message, role);
  }

  /** Runs one turn for `batch` (messages of one conversation with one label) in the conversation's session. */
  async #run(first: StoredInbound, batch: readonly StoredInbound[], role: 'owner' | 'contact'): Promise<TurnOutcome> {
    const store = this.deps.channels;
    const conversation = store.conversation(first.channel, first.conversationId);
    let sessionId = conversation?.sessionId;
    if (!sessionId) {
      sessionId = this.deps.sessions.create(`${first.channel}:${first.conversationId}`, conversation?.title).id;
      store.setConversationSession(first.channel, first.conversationId, sessionId);
    }
    for (const item of batch) store.setStatus(item.id, 'processing', role, sessionId);

    const channel = this.#channels.get(first.channel);
    const signal = this.#signal ?? new AbortController().signal;
    const typing = channel?.typing ? setInterval(() => void channel.typing?.(first.conversationId, signal).catch(() => undefined), 4_000) : undefined;
    void channel?.typing?.(first.conversationId, signal).catch(() => undefined);
    this.#turns.set(sessionId, { channel: first.channel, conversationId: first.conversationId, isGroup: first.isGroup });
    try {
      return await this.deps.runner.run({
        sessionKey: sessionId,
        // Messages that waited for the model together are one request, in the order they were sent.
        text: batch.map((item) => item.text).join('\n\n'),
        trigger: triggerOf(first, role),
        signal,
        // Contacts, and anyone in a group (the reply goes to everyone there), get no private data and no actions.
        toolset: role === 'contact' || first.isGroup ? this.deps.contactTools : this.deps.tools,
        replyTo: { channel: first.channel, conversationId: first.conversationId },
        // A message whose turn never reached the model is run again later; the history must hold it once.
        onlyIfAnswered: true,
      });
    } finally {
      this.#turns.delete(sessionId);
      if (typing) clearInterval(typing);
    }
  }

  /**
   * The messages one turn answers: this one, or, when earlier messages of its conversation wait for the model, those
   * first (oldest first, up to the first with another label, and without any that became too old to answer).
   */
  #batchOf(message: StoredInbound, role: 'owner' | 'contact'): StoredInbound[] {
    const waiting = this.deps.channels.waitingForModel(message.channel, message.conversationId).filter((item) => item.id !== message.id);
    if (waiting.length === 0) return [message];
    const candidates: { item: StoredInbound; role: SenderRole }[] = [];
    for (const item of waiting) {
      if (this.#isStale(item)) this.#skipStale(item);
      else if (item.role === 'owner' || item.role === 'contact') candidates.push({ item, role: item.role });
    }
    candidates.push({ item: message, role });
    candidates.sort((a, b) => a.item.id - b.item.id);
    const label = (entry: { item: StoredInbound; role: SenderRole }): string => JSON.stringify(triggerOf(entry.item, entry.role === 'contact' ? 'contact' : 'owner'));
    const first = candidates[0] as { item: StoredInbound; role: SenderRole };
    const batch: StoredInbound[] = [];
    for (const entry of candidates) {
      if (entry.role !== first.role || label(entry) !== label(first)) break;
      batch.push(entry.item);
    }
    return batch;
  }

  /** Whether a turn may call the model now; while it is down, the first message after each wait claims the one try. */
  #mayCallModel(): boolean {
    const down = this.#modelDown;
    if (!down) return true;
    if (down.trying || this.#now() < down.nextTryAt) return false;
    down.trying = true;
    return true;
  }

  /** What a turn learned about the model: unreachable (wait longer), reached (the outage is over), or nothing. */
  #modelTried(result: TurnOutcome | undefined): void {
    const code = result?.unanswered ? result.error?.code : undefined;
    const down = this.#modelDown;
    if (code !== undefined && UNREACHABLE.has(code)) {
      const delayMs = down ? Math.min(down.delayMs * 2, this.#modelRetry.maxMs) : this.#modelRetry.firstMs;
      this.#modelDown = { reason: unreachableReason(code), delayMs, nextTryAt: this.#now() + delayMs, trying: false };
      const line = this.deps.broker.redact(`The model could not be reached (${result?.error?.message ?? code}); messages wait, next try in ${Math.round(delayMs / 1000)} s.`);
      this.#log(line);
      if (!down) this.deps.activity.append({ kind: 'system', summary: line, actor: 'pavise', decision: 'failed' });
    } else if (result && (code === undefined || REFUSED.has(code))) {
      if (down) {
        this.#log('The model answers again; answering the messages that waited.');
        this.deps.activity.append({ kind: 'system', summary: 'The model answers again; answering the messages that waited for it.', actor: 'pavise' });
      }
      this.#modelDown = undefined;
    } else if (down) {
      down.trying = false;
    }
  }

  /** Messages wait for the model; the owner hears it once per conversation and wait (the notice is keyed to its first message). */
  #waitForModel(batch: readonly StoredInbound[], role: 'owner' | 'contact'): void {
    const first = batch[0];
    if (!first) return;
    for (const item of batch) this.deps.channels.setStatus(item.id, 'waiting_model', role);
    const key = `${first.channel}:${first.conversationId}`;
    if (this.#modelWaits.has(key)) return;
    this.#modelWaits.set(key, first.id);
    if (role !== 'owner') return;
    const minutes = this.deps.config.channels[first.channel].maxAgeMinutes;
    const reason = this.#modelDown?.reason ?? 'it did not answer';
    const text = `Pavise couldn't reach the model (${reason}), so your message isn't answered yet. It is kept: I'll answer when the model is back, or tell you if that takes over ${minutes} minutes.`;
    this.deps.outbox.enqueue({ channel: first.channel, conversationId: first.conversationId, text, idempotencyKey: `model-down:${first.id}`, notice: true }, this.#now());
    this.#kickOutbox();
  }

  /** The model refused the request (a bad key, an invalid request): no retry fixes it, so the owner is told what to do, once. */
  #refused(batch: readonly StoredInbound[], role: 'owner' | 'contact', error: ProviderError): void {
    const first = batch[0];
    if (!first) return;
    for (const item of batch) this.deps.channels.setStatus(item.id, 'failed', role);
    const key = `${first.channel}:${first.conversationId}`;
    this.#modelWaits.delete(key);
    if (this.#refusalsTold.has(key)) return;
    this.#refusalsTold.add(key);
    // The provider's words may echo what was sent (a header, a key): scrubbed like any reply.
    const summary = this.deps.broker.redact(`Pavise couldn't answer: ${error.message} Send your message again after that.`);
    this.deps.activity.append({ kind: 'system', summary, actor: 'pavise', decision: 'failed', detail: { ids: batch.map((item) => item.id), code: error.code } });
    this.deps.events.emit('alert', summary);
    if (role !== 'owner') return;
    this.deps.outbox.enqueue({ channel: first.channel, conversationId: first.conversationId, text: summary, idempotencyKey: `model-refused:${first.id}`, notice: true }, this.#now());
    this.#kickOutbox();
  }

  #isStale(message: StoredInbound): boolean {
    return this.#now() - message.sentAt > this.deps.config.channels[message.channel].maxAgeMinutes * 60_000;
  }

  /** Too old to answer: stored, not answered. One that waited for the model is closed in its chat, as promised there. */
  #skipStale(message: StoredInbound): void {
    const store = this.deps.channels;
    store.setStatus(message.id, 'skipped_stale');
    this.#waitingForPacing.delete(message.id);
    if (message.status !== 'waiting_model') {
      this.#noteSkipped(message, 'downtime');
      return;
    }
    this.#noteSkipped(message, 'model');
    const key = `${message.channel}:${message.conversationId}`;
    const firstId = this.#modelWaits.get(key) ?? message.id;
    if (store.waitingForModel(message.channel, message.conversationId).length === 0) this.#modelWaits.delete(key);
    else this.#modelWaits.set(key, firstId);
    if (message.role !== 'owner') return;
    const minutes = this.deps.config.channels[message.channel].maxAgeMinutes;
    const text = `The model stayed unreachable for over ${minutes} minutes, so I won't answer what you sent while it was down. Send it again if it still matters.`;
    this.deps.outbox.enqueue({ channel: message.channel, conversationId: message.conversationId, text, idempotencyKey: `model-gave-up:${firstId}`, notice: true }, this.#now());
    this.#kickOutbox();
  }

  /** Strangers get nothing but a pairing request the owner decides locally (and at most one fixed line). */
  async #handleStranger(message: StoredInbound): Promise<void> {
    const store = this.deps.channels;
    const approvals = this.deps.approvals;
    if (message.isGroup) {
      store.setStatus(message.id, 'ignored', 'stranger');
      return;
    }
    if (message.channel === 'telegram' && this.deps.pairing.consume('telegram', message.text, this.#now())) {
      store.addIdentity('telegram', message.sender, 'owner', 'pairing-code', message.senderName, this.#now());
      this.deps.activity.append({ kind: 'system', summary: `Paired Telegram user ${message.sender} as the owner`, actor: 'owner:pairing-code', detail: { channel: 'telegram', sender: message.sender } });
      this.deps.outbox.enqueue({ channel: 'telegram', conversationId: message.conversationId, text: 'Paired: you are now Pavise’s owner on Telegram.', idempotencyKey: `paired:${message.id}` }, this.#now());
      store.setStatus(message.id, 'answered', 'owner');
      this.#kickOutbox();
      return;
    }

    const input = { channel: message.channel, sender: message.sender };
    const mine = approvals.live(pairingHash(input), this.#now()).filter((approval) => approval.tool === 'pair_sender' && canonicalJson(approval.input) === canonicalJson(input));
    const approved = mine.find((approval) => approval.status === 'approved');
    if (approved) {
      const used = approvals.consume(approved.id, pairingHash(input), this.#now());
      if (used.ok) {
        store.addIdentity(message.channel, message.sender, 'contact', `owner:${approved.decidedBy ?? 'local'}`, message.senderName, this.#now());
        await this.#turn(message, 'contact');
        return;
      }
    }
    store.setStatus(message.id, 'ignored', 'stranger');
    if (mine.some((approval) => approval.status === 'pending' || approval.status === 'denied')) return;
    const drop = pairingsToDrop(approvals.pending(this.#now()), message.channel).filter((id) => approvals.expire(id, this.#now()));
    const dropped = this.deps.pairing.noteDropped(message.channel, drop.length, PAIRING_TTL_MS, this.#now());
    const { title, reason } = pairingCard(message.channel, message.sender, message.senderName, dropped);
    const approval = approvals.create(
      {
        sessionId: undefined,
        tool: 'pair_sender',
        input,
        effects: [],
        provenance: { origins: [{ path: 'sender', value: message.sender, origin: 'untrusted', from: 'a message from someone who is not you' }] },
        hash: pairingHash(input),
        title,
        reason,
        risk: 'medium',
        grantable: false,
        ttlMs: PAIRING_TTL_MS,
      },
      this.#now(),
    );
    this.deps.activity.append({ kind: 'approval_requested', summary: approval.title, decision: 'ask', actor: 'policy', detail: { approvalId: approval.id } });
    this.deps.events.emit('approval', approval);
    const line = this.deps.config.channels.unknownSenderReply;
    // A few an hour: a wave of new senders must not have Pavise write to each of them, on its own, until the hourly
    // cap trips the breaker and stops every message (the owner's replies too). The owner still sees each request.
    if (line && this.deps.outbox.countKeyedSince('unknown:', this.#now() - 60 * 60_000) < UNKNOWN_SENDER_LINES_PER_HOUR) {
      this.deps.outbox.enqueue({ channel: message.channel, conversationId: message.conversationId, text: line, idempotencyKey: `unknown:${message.channel}:${message.sender}` }, this.#now());
      this.#kickOutbox();
    }
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
      this.#log(notice);
    }, 250).unref();
  }

  /** Inbound text is scrubbed before it is stored: a secret someone sends (or echoes back) never rests in the database. */
  #scrubbed(message: InboundMessage): InboundMessage {
    return { ...message, text: this.deps.broker.redact(message.text) };
  }

  #kickOutbox(): void {
    if (this.#outboxRunning) {
      this.#outboxAgain = true;
      return;
    }
    this.#outboxRunning = this.#drainOutbox().finally(() => {
      this.#outboxRunning = undefined;
      if (this.#outboxAgain) {
        this.#outboxAgain = false;
        this.#kickOutbox();
      }
    });
  }

  async #drainOutbox(): Promise<void> {
    const signal = this.#signal ?? new AbortController().signal;
    // A page at a time: after a flood thousands of entries may wait, and each send takes a while.
    // Entries that failed retryably wait their backoff (a send that timed out may have gone out: no resend every sweep).
    for (let page = this.deps.outbox.due(0, OUTBOX_PAGE, this.#now()); page.length > 0; page = this.deps.outbox.due(page.at(-1)?.id ?? 0, OUTBOX_PAGE, this.#now())) {
      if (!(await this.#sendPage(page, signal))) return;
    }
  }

  /** Sends a page of entries in order; false when draining should stop for now (aborted, paused, a retryable failure). */
  async #sendPage(page: readonly OutboxEntry[], signal: AbortSignal): Promise<boolean> {
    for (const entry of page) {
      if (signal.aborted || this.deps.switches.get('paused').on) return false;
      const channel = this.#channels.get(entry.channel);
      if (!channel) continue; // stays pending until that channel runs
      if (!this.#mayLeave(entry)) continue;
      if (!this.deps.outbox.claim(entry.id, this.#now())) continue;
      const result = await channel.send({ conversationId: entry.conversationId, text: entry.text, idempotencyKey: entry.idempotencyKey }, signal);
      if (result.ok) {
        this.deps.outbox.markSent(entry.id, this.#now(), result.externalIds);
        if (!entry.idempotencyKey.startsWith('tool:')) this.deps.pacer.record(entry.channel, entry.conversationId, this.#now());
        this.deps.activity.append({
          kind: 'effect',
          summary: `Sent ${entry.channel === 'imessage' ? 'iMessage' : 'Telegram message'} to ${channelPlugin(entry.channel)?.describeTarget(entry.conversationId) ?? entry.conversationId}`,
          tool: 'outbox',
          decision: 'done',
          actor: 'pavise',
          detail: { outboxId: entry.id, key: entry.idempotencyKey, chars: entry.text.length },
        });
      } else {
        this.deps.outbox.markFailed(entry.id, result.message, result.retryable, this.#now());
        this.#log(`${entry.channel}: sending outbox #${entry.id} failed — ${result.message}`);
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
    this.deps.outbox.hold(entry.id, outbound.reason, this.#now());
    return false;
  }
}

/**
 * Whose words start the turn. A group is a room full of other people: even the owner's message there arrives with
 * their words around it. A forward or quote carries someone else's words, so the whole message is untrusted data
 * (its text names the original sender), whoever sent it.
 */
function triggerOf(message: StoredInbound, role: 'owner' | 'contact'): Provenance {
  if (message.kind === 'forwarded') return { kind: 'untrusted', source: 'non_owner_sender', detail: 'forwarded or quoted from someone else' };
  if (role === 'contact') return { kind: 'contact', contactId: `${message.channel}:${message.sender}` };
  return message.isGroup ? { kind: 'untrusted', source: 'non_owner_sender', detail: `group ${message.conversationId}` } : OWNER;
}

/** Why the model could not be reached, in words for the owner's chat. */
function unreachableReason(code: ProviderErrorCode): string {
  switch (code) {
    case 'network':
      return 'no connection to it';
    case 'overloaded':
      return 'it is overloaded';
    case 'rate_limit':
      return 'it is rate-limiting requests';
    case 'malformed_stream':
      return 'its answer was cut off';
    default:
      return 'it had a server error';
  }
}

export function pairingHash(input: { channel: string; sender: string }): string {
  return sha256Hex(canonicalJson({ tool: 'pair_sender', input }));
}
