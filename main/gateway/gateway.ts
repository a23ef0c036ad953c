import { join } from 'node:path';
import type { Channel, ChannelHost, ChannelId, ChannelStatus, InboundMessage } from '../channels/channel.js';
import { channelPlugin } from '../channels/registry.js';
import { DEFAULT_MAX_CHUNK_LENGTH } from '../channels/imessage/split-message.js';
import type { ApprovalView } from '../common/approvals.js';
import type { Config } from '../common/config-schema.js';
import type { Emitter } from '../common/emitter.js';
import { OWNER, type Provenance } from '../common/messages.js';
import { pairingCard, pairingsToDrop, type PairingCodes } from '../identity/pairing.js';
import { roleOf } from '../identity/roles.js';
import type { ActivityLog } from '../permissions/activity-log.js';
import { canonicalJson, sha256Hex } from '../permissions/canonical.js';
import type { ApprovalOutcome, PermissionGate } from '../permissions/gate.js';
import type { Pacer } from '../permissions/pacing.js';
import type { SecretBroker } from '../permissions/secret-broker.js';
import { ModelOutage, MODEL_RETRY_MS } from '../runtime/model-outage.js';
import type { TurnOutcome, TurnRunner } from '../runtime/turn-runner.js';
import type { ApprovalStore } from '../storage/approval-store.js';
import type { ChannelStore, StoredInbound } from '../storage/channel-store.js';
import type { Outbox } from '../storage/outbox.js';
import type { SessionStore } from '../storage/session-store.js';
import type { Switches } from '../storage/switches.js';
import type { ToolRegistry } from '../tools/registry.js';
import { restartWithBackoff } from '../platform/restart-with-backoff.js';
import { acquireGatewayLock } from './lock.js';
import { ApprovalNotices } from './approval-notices.js';
import { ModelWaits } from './model-waits.js';
import { OutboxSender } from './outbox-sender.js';
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
  /** The platform this runs on (default this process's): approval notices say where the owner can decide here. */
  readonly platform?: NodeJS.Platform;
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
  readonly #outbox: OutboxSender;
  /** Messages left stored because their answer could not be sent yet (logged once each). */
  readonly #waitingForPacing = new Set<number>();
  /** What happens to messages while the model cannot be reached. */
  readonly #model: ModelWaits;
  /** Whether the model may be called now: the scheduler this gateway runs shares it, so its jobs wait for the same model. */
  readonly modelOutage: ModelOutage;
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
    const platform = options.platform ?? process.platform;
    this.#outbox = new OutboxSender({ ...deps, channels: this.#channels, now: this.#now, log: this.#log, signal: () => this.#signal, alert: (message) => this.deps.events.emit('alert', message) });
    this.modelOutage = new ModelOutage({ ...deps, now: this.#now, log: this.#log, retry: options.modelRetryMs ?? MODEL_RETRY_MS });
    this.#model = new ModelWaits({ ...deps, now: this.#now, log: this.#log, queued: () => this.#kickOutbox(), outage: this.modelOutage });
    this.#remote = new RemoteApprovals({ config: deps.config, channels: deps.channels, approvals: deps.approvals, gate: deps.gate, now: this.#now, platform });
    this.#notices = new ApprovalNotices({ config: deps.config, remote: this.#remote, log: this.#log, platform, outbox: deps.outbox, now: this.#now });
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
      await Promise.allSettled([...this.#inFlight, this.#outbox.running]);
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
    if (this.#model.due()) this.#handleBacklog();
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
    if (this.#model.isStale(message)) {
      this.#model.skipStale(message);
      this.#waitingForPacing.delete(message.id);
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
    // A message the owner just sent (not one that waited) may be the try while the account is out of credit.
    const call = this.#model.mayCall(role === 'owner' && message.status !== 'waiting_model');
    if (!call) {
      this.#model.wait([message], role);
      return;
    }
    let batch: StoredInbound[] = [message];
    // The role of the messages this turn answers: earlier ones of another sender in a group may go first.
    let batchRole = role;
    let result: TurnOutcome | undefined;
    try {
      ({ batch, role: batchRole } = this.#model.batchOf(message, role, (item, itemRole) => JSON.stringify(triggerOf(item, itemRole))));
      result = await this.#run(batch[0] ?? message, batch, batchRole);
    } finally {
      // Whatever happened, the try this turn claimed ends here (a failure to even start it must not block the next).
      this.#model.tried(result, call);
    }
    const first = batch[0] ?? message;
    if (!this.#model.settle(result, batch, batchRole, message, role)) return;
    // An error's text is a notice about Pavise, not something the assistant said: memory does not keep it as such.
    const reply = this.deps.broker.redact(result.reply || (result.error && batchRole === 'owner' ? result.error.message : ''));
    const notice = !result.reply;
    this.deps.transaction(() => {
      if (reply.trim()) {
        this.deps.outbox.enqueue({ channel: message.channel, conversationId: message.conversationId, text: reply, idempotencyKey: `reply:${first.id}`, notice }, this.#now());
      }
      for (const item of batch) store.setStatus(item.id, 'answered');
    });
    this.#kickOutbox();
    // This message carried another label than those that waited before it: it gets its own turn, after theirs.
    if (!batch.includes(message)) await this.#turn(message, role);
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

  #kickOutbox(): void {
    this.#outbox.kick();
  }

  /** Inbound text is scrubbed before it is stored: a secret someone sends (or echoes back) never rests in the database. */
  #scrubbed(message: InboundMessage): InboundMessage {
    return { ...message, text: this.deps.broker.redact(message.text) };
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

export function pairingHash(input: { channel: string; sender: string }): string {
  return sha256Hex(canonicalJson({ tool: 'pair_sender', input }));
}
