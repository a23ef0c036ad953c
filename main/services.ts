import { chmodSync, mkdirSync } from 'node:fs';
import type { ApprovalView } from './common/approvals.js';
import type { Config } from './common/config-schema.js';
import { OWNER, type Message, type UserMessage } from './common/messages.js';
import { runTurn, MissingKeyError, type AgentHooks, type TurnResult } from './agent/loop.js';
import type { AgentEvent } from './agent/events.js';
import { loadConfig } from './config/config.js';
import { paviseHome, defaultPaviseHome, homePaths, type HomePaths } from './config/paths.js';
import type { Provider, ProviderId } from './llm/provider.js';
import { createProvider } from './llm/create-provider.js';
import { openDatabase, type Database } from './memory/database.js';
import { NotesStore } from './memory/notes-store.js';
import { SessionStore } from './memory/session-store.js';
import { ACTIVITY_KEY_NAME, ActivityLog } from './permissions/activity-log.js';
import { ApprovalStore } from './permissions/approval-store.js';
import { isKnownGroup } from './permissions/known-recipient.js';
import { PermissionGate } from './permissions/gate.js';
import { Pacer } from './permissions/pacing.js';
import { SecretBroker } from './permissions/secret-broker.js';
import { costUsd, priceOf, startOfToday, worstCaseUsd } from './permissions/spend.js';
import { Switches } from './permissions/switches.js';
import { buildSystemPrompt, ensureSoul } from './persona/soul.js';
import { providerKeyFromEnv } from './secrets/env-fallback.js';
import { KeychainSecretStore, keychainServiceFor } from './secrets/keychain-secret-store.js';
import type { SecretStore } from './secrets/secret-store.js';
import { currentTimeTool } from './tools/current-time.js';
import { createNoteTools } from './tools/notes.js';
import { createMessageTools, type MessagingLike } from './tools/messages.js';
import { ToolRegistry, type Tool } from './tools/tool.js';
import { ChannelStore } from './gateway/channel-store.js';
import { Outbox } from './gateway/outbox.js';
import { ownerRegion, sameHandle } from './identity/handles.js';
import { roleOf } from './identity/roles.js';

export interface ServiceOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  /** Tests and the Electron shell may supply their own; the default is the Keychain / Secret Service. */
  readonly secrets?: SecretStore;
  readonly provider?: Provider;
  /** Extra tools (tests of the gate); registered after the built-in ones, through the same registry checks. */
  readonly extraTools?: readonly Tool[];
  /** How often a waiting approval re-reads the database (decisions from another process). */
  readonly approvalPollMs?: number;
  /**
   * Load the model SDK at the first model call instead of in the background at start-up. The gateway may not call
   * a model for hours, and loading the SDK at start-up only delays its channels' connecting.
   */
  readonly loadProviderAtFirstCall?: boolean;
}

export interface AskOptions {
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: AgentEvent) => void;
  /** How the turn's trigger is labelled; the local CLI and popover are the owner. */
  readonly provenance?: UserMessage['provenance'];
  /** The tools this turn may use; contacts get only tools without effects. Defaults to all. */
  readonly tools?: ToolRegistry;
}

type ApprovalListener = (approval: ApprovalView) => void;
type AlertListener = (message: string) => void;

/**
 * Where a home's pieces are built and wired together. The CLI, the headless gateway and the Electron shell all
 * construct the assistant through `createServices`; tools, providers and stores are registered here explicitly.
 */
export class Services {
  readonly tools: ToolRegistry;
  readonly sessions: SessionStore;
  readonly notes: NotesStore;
  readonly approvals: ApprovalStore;
  readonly switches: Switches;
  readonly pacer: Pacer;
  readonly broker: SecretBroker;
  readonly gate: PermissionGate;
  readonly channels: ChannelStore;
  readonly outbox: Outbox;
  readonly #outboxListeners = new Set<() => void>();
  readonly #approvalListeners = new Set<ApprovalListener>();
  readonly #alertListeners = new Set<AlertListener>();
  #provider: Provider | undefined;

  private constructor(
    readonly paths: HomePaths,
    readonly config: Config,
    readonly secrets: SecretStore,
    readonly activity: ActivityLog,
    readonly db: Database,
    broker: SecretBroker,
    private readonly env: NodeJS.ProcessEnv,
    options: ServiceOptions,
  ) {
    this.broker = broker;
    this.sessions = new SessionStore(db);
    this.notes = new NotesStore(db);
    this.approvals = new ApprovalStore(db);
    this.switches = new Switches(db);
    this.pacer = new Pacer(db, config.limits.pacing);
    this.tools = new ToolRegistry().register(currentTimeTool);
    const [saveNote, listNotes] = createNoteTools(this.notes);
    this.tools.register(saveNote).register(listNotes);
    this.channels = new ChannelStore(db);
    this.outbox = new Outbox(db);
    const [sendMessage, listConversations, readMessages] = createMessageTools(this.#messaging());
    this.tools.register(sendMessage).register(listConversations).register(readMessages);
    for (const tool of options.extraTools ?? []) this.tools.register(tool);
    this.#provider = options.provider;
    this.gate = new PermissionGate({
      tools: this.tools,
      approvals: this.approvals,
      activity,
      pacer: this.pacer,
      switches: this.switches,
      broker,
      policy: { alwaysAsk: config.permissions.alwaysAsk, deny: config.permissions.deny },
      approvalTtlMs: config.permissions.approvalTimeoutMinutes * 60_000,
      dailySpendCapUsd: config.limits.dailySpendUsd,
      spentTodayUsd: () => this.spentTodayUsd(),
      worstCaseUsd: (request) => worstCaseUsd(priceOf(config.model.provider, config.model.name, config.model.baseURL), request),
      // Known: a conversation exists and the person in it is an owner or approved contact (a stranger who once
      // wrote in is not someone Pavise may write to without asking).
      isKnownRecipient: (channel, recipient) => {
        const conversation = this.channels.conversation(channel as 'imessage' | 'telegram', recipient);
        if (!conversation) return false;
        if (conversation.isGroup) return isKnownGroup(this.channels.messages(channel as 'imessage' | 'telegram', recipient, { limit: 10_000 }), (sender) => roleOf(this.config, this.channels, channel as 'imessage' | 'telegram', sender) === 'owner');
        const handle = recipient.split(';').at(-1) ?? recipient;
        return (
          this.channels.ownerHasWritten(channel as 'imessage' | 'telegram', recipient) ||
          roleOf(this.config, this.channels, channel as 'imessage' | 'telegram', handle) !== 'stranger'
        );
      },
      onApprovalRequested: (approval) => {
        for (const listener of this.#approvalListeners) listener(approval);
      },
      onAlert: (message) => {
        for (const listener of this.#alertListeners) listener(message);
      },
      ...(options.approvalPollMs ? { pollMs: options.approvalPollMs } : {}),
    });
  }

  static async create(options: ServiceOptions = {}): Promise<Services> {
    const env = options.env ?? process.env;
    const platform = options.platform ?? process.platform;
    const home = paviseHome(env, platform);
    const paths = homePaths(home);
    mkdirSync(home, { recursive: true, mode: 0o700 });
    chmodSync(home, 0o700);
    const config = loadConfig(paths.config);
    ensureSoul(paths.soul);
    const secrets = options.secrets ?? new KeychainSecretStore(keychainServiceFor(home, defaultPaviseHome(env, platform)));
    const db = openDatabase(paths.database);
    // Start loading the provider's SDK now, so it overlaps the Keychain round-trips below (unless it waits for its first call).
    const provider = options.provider ?? (options.loadProviderAtFirstCall ? undefined : createProvider(config.model));
    try {
      const broker = new SecretBroker(secrets);
      const extra = { 'env:ANTHROPIC_API_KEY': env.ANTHROPIC_API_KEY, 'env:OPENAI_API_KEY': env.OPENAI_API_KEY };
      // The Keychain reads run together; only on the very first start, when the log's key has just been created,
      // is the broker loaded again so that it scrubs that key too.
      const [activity] = await Promise.all([ActivityLog.open(db, secrets), broker.load(extra)]);
      if (!broker.names().includes(ACTIVITY_KEY_NAME)) await broker.load(extra);
      return new Services(paths, config, secrets, activity, db, broker, env, { ...options, ...(provider ? { provider } : {}) });
    } catch (error) {
      db.close();
      throw error;
    }
  }

  get provider(): Provider {
    this.#provider ??= createProvider(this.config.model);
    return this.#provider;
  }

  onApprovalRequested(listener: ApprovalListener): () => void {
    this.#approvalListeners.add(listener);
    return () => this.#approvalListeners.delete(listener);
  }

  /** The gateway listens here to send newly queued messages at once. */
  onOutboxQueued(listener: () => void): () => void {
    this.#outboxListeners.add(listener);
    return () => this.#outboxListeners.delete(listener);
  }

  /** Tools without any effect: what an approved contact's turn may use (no private data, no actions). */
  contactTools(): ToolRegistry {
    const registry = new ToolRegistry();
    for (const tool of this.tools.list()) if (tool.effects.length === 0) registry.register(tool);
    return registry;
  }

  /** The pause switch; resuming also resets a tripped outbound breaker. Recorded in the activity log. */
  setPaused(paused: boolean, actor: string): void {
    this.switches.set('paused', paused, paused ? `paused by ${actor}` : undefined);
    if (!paused) this.switches.set('outbound_tripped', false);
    this.activity.append({ kind: paused ? 'pause' : 'resume', summary: paused ? 'Paused all effects' : 'Resumed', actor });
  }

  notifyApproval(approval: ApprovalView): void {
    for (const listener of this.#approvalListeners) listener(approval);
  }

  alert(message: string): void {
    for (const listener of this.#alertListeners) listener(message);
  }

  onAlert(listener: AlertListener): () => void {
    this.#alertListeners.add(listener);
    return () => this.#alertListeners.delete(listener);
  }

  /** The session the local CLI continues: the most recent one, or a new one. */
  localSession(fresh = false): string {
    const latest = fresh ? undefined : this.sessions.latest('local');
    return latest?.id ?? this.sessions.create('local').id;
  }

  history(sessionId: string): Message[] {
    return this.sessions.messages(sessionId);
  }

  spentTodayUsd(now = Date.now()): number {
    const baseURL = this.config.model.baseURL;
    return this.sessions
      .usageSince(startOfToday(now))
      .reduce((sum, row) => sum + costUsd(priceOf(row.provider, row.model, row.provider === this.config.model.provider ? baseURL : undefined), row), 0);
  }

  async ask(sessionId: string, text: string, options: AskOptions = {}): Promise<TurnResult> {
    const input: UserMessage = { role: 'user', content: text, provenance: options.provenance ?? OWNER, timestamp: Date.now() };
    const gate = this.gate;
    const hooks: AgentHooks = {
      getApiKey: (provider) => this.#apiKey(provider),
      beforeToolCall: (request) => gate.check(request),
      afterToolCall: (result, request) => gate.afterToolCall(result, request),
      beforeModelCall: (request) => gate.beforeModelCall(request),
      transformContext: (messages) => gate.transformContext(messages),
      onEvent: (event) => {
        // What is stored is scrubbed too: a secret the model decoded must not live on in the history.
        if (event.type === 'message') this.sessions.append(sessionId, this.broker.redactValue(event.message));
        options.onEvent?.(event);
      },
    };
    const result = await runTurn({
      sessionId,
      provider: this.provider,
      model: this.config.model.name,
      system: buildSystemPrompt(this.paths.soul),
      tools: options.tools ?? this.tools,
      history: this.history(sessionId),
      input,
      limits: { maxSteps: this.config.limits.maxStepsPerTurn, maxTokens: this.config.limits.maxTokensPerTurn },
      maxOutputTokens: this.config.model.maxOutputTokens,
      hooks,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { ...result, reply: this.broker.redact(result.reply) };
  }

  close(): void {
    this.db.close();
  }

  #messaging(): MessagingLike {
    const matches = (channel: string, to: string) =>
      this.channels
        .conversations(10_000)
        .filter((item) => item.channel === channel)
        .filter((item) => item.conversationId === to || (!item.isGroup && sameHandle(item.channel, item.conversationId.split(';').at(-1) ?? '', to, ownerRegion(this.config))) || item.title?.toLowerCase() === to.toLowerCase());
    return {
      conversations: (limit) => this.channels.conversations(limit),
      titleOf: (channel, conversationId) => this.channels.conversation(channel, conversationId)?.title,
      resolve: (channel, to) => {
        const found = matches(channel, to.trim());
        // Ambiguity fails closed: two conversations called "Sam" resolve to neither.
        return found.length === 1 ? found[0]?.conversationId : undefined;
      },
      read: (channel, conversationId, since, limit) =>
        this.channels.messages(channel, conversationId, { since, limit }).map((message) => ({
          sentAt: message.sentAt,
          sender: message.sender,
          senderName: message.senderName,
          text: message.text,
          role: message.isFromMe ? 'self' : roleOf(this.config, this.channels, channel, message.sender),
          attachments: message.attachments.length,
        })),
      send: async (channel, conversationId, text, idempotencyKey, signal) => {
        const entry = this.outbox.enqueue({ channel, conversationId, text, idempotencyKey });
        if (!this.channels.conversation(channel, conversationId)) this.channels.touchConversation(channel, conversationId, false, undefined);
        for (const listener of this.#outboxListeners) listener();
        if (this.#outboxListeners.size === 0) return `Queued (#${entry.id}); it is sent when the Pavise gateway runs.`;
        for (let waited = 0; waited < 15_000 && !signal.aborted; waited += 100) {
          const current = this.outbox.get(entry.id);
          if (current?.status === 'sent') return `Sent (#${entry.id}).`;
          if (current?.status === 'failed') throw new Error(`Sending failed: ${current.error ?? 'unknown error'}`);
          if (current?.status === 'held') throw new Error(`Held: ${current.error ?? 'outbound messages are paused'}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return `Queued (#${entry.id}); the gateway is still sending it.`;
      },
    };
  }

  async #apiKey(provider: ProviderId): Promise<string | undefined> {
    let stored: string | undefined;
    let keychainProblem: string | undefined;
    try {
      stored = await this.secrets.get(provider);
    } catch (error) {
      keychainProblem = error instanceof Error ? error.message : String(error);
    }
    const key = stored ?? providerKeyFromEnv(provider, this.env);
    if (key) {
      this.broker.remember(provider, key);
      return key;
    }
    if (provider === 'openai-compatible') return undefined;
    const envName = provider === 'anthropic' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY';
    throw new MissingKeyError(
      `No API key for ${provider}. Store one with \`pavise secrets set ${provider}\` (it reads the key from stdin) ` +
        `or set ${envName}.${keychainProblem ? ` (The Keychain could not be read: ${keychainProblem})` : ''}`,
    );
  }
}

export function createServices(options: ServiceOptions = {}): Promise<Services> {
  return Services.create(options);
}
