import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import type { ApprovalView } from '../common/approvals.js';
import { textOf } from '../common/messages.js';
import {
  IPC_REQUESTS,
  type ActivityItem,
  type ChannelDot,
  type ChatEvent,
  type ChatLine,
  type IpcChannel,
  type IpcResult,
  type SettingsView,
  type Snapshot,
} from '../common/ipc.js';
import { loadConfig, parseConfig, ConfigError } from '../config/config.js';
import type { ChannelStatus } from '../channels/channel.js';
import { TELEGRAM_TOKEN_SECRET } from '../channels/telegram/telegram-channel.js';
import { PairingCodes } from '../identity/pairing.js';
import type { ActivityRow } from '../permissions/activity-log.js';
import type { Services } from '../services.js';

/** What only the shell can do (open a System Settings pane, the login item); stubs elsewhere. */
export interface PlatformHooks {
  openSystemPane?(pane: 'full-disk-access' | 'automation' | 'notifications'): Promise<boolean> | boolean;
  openSettings?(section?: string): void;
  getOpenAtLogin?(): boolean;
  setOpenAtLogin?(enabled: boolean): void;
  fullDiskAccess?(): 'granted' | 'denied' | 'unknown';
  channelStatuses?(): readonly ChannelStatus[];
}

type Handler = (payload: unknown) => Promise<unknown> | unknown;

const SECRET_LABELS: Readonly<Record<string, string>> = {
  anthropic: 'Anthropic API key',
  openai: 'OpenAI API key',
  'openai-compatible': 'API key for the OpenAI-compatible server',
  [TELEGRAM_TOKEN_SECRET]: 'Telegram bot token',
};

/**
 * The core behind `window.pavise`: one handler per IPC channel, each parsing its payload with the contract in
 * main/common/ipc.ts. Electron's ipcMain and the Playwright bridge both call `invoke`; neither sees a secret.
 */
export class AppBackend {
  readonly #stateListeners = new Set<(snapshot: Snapshot) => void>();
  readonly #chatListeners = new Set<(event: ChatEvent) => void>();
  readonly #handlers: Record<IpcChannel, Handler>;
  #turn: AbortController | undefined;
  #disposed = false;
  #chatSession: string | undefined;
  #pushTimer: NodeJS.Timeout | undefined;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(
    private readonly services: Services,
    private readonly platform: PlatformHooks = {},
  ) {
    this.#handlers = {
      'state.get': () => this.snapshot(),
      'approvals.decide': (payload) => this.#decide(payload as never),
      'pause.set': (payload) => this.#setPaused((payload as { paused: boolean }).paused),
      'chat.send': (payload) => this.#sendChat((payload as { text: string }).text),
      'chat.abort': () => {
        const running = this.#turn !== undefined;
        this.#turn?.abort();
        return { aborted: running };
      },
      'chat.history': (payload) => this.#chatHistory((payload as { limit?: number }).limit ?? 100),
      'settings.get': () => this.#settingsWithSecrets(),
      'settings.update': (payload) => this.#updateSettings(payload as never),
      'secrets.set': async (payload) => {
        const { name, value } = payload as { name: string; value: string };
        await this.services.secrets.set(name, value);
        this.services.broker.remember(name, value);
        this.services.activity.append({ kind: 'system', summary: `Stored the secret "${name}" in the Keychain`, actor: 'owner:settings' });
        return { stored: true as const };
      },
      'secrets.remove': async (payload) => {
        const { name } = payload as { name: string };
        const removed = await this.services.secrets.delete(name);
        if (removed) this.services.activity.append({ kind: 'system', summary: `Removed the secret "${name}"`, actor: 'owner:settings' });
        return { removed };
      },
      'persona.save': (payload) => {
        writeFileSync(this.services.paths.soul, (payload as { text: string }).text, { mode: 0o600 });
        return { saved: true as const };
      },
      'pairing.create': () => {
        const created = new PairingCodes(this.services.db).create('telegram');
        this.services.activity.append({ kind: 'system', summary: 'Created a Telegram pairing code', actor: 'owner:settings' });
        return created;
      },
      'activity.list': (payload) => this.#activity(payload as never),
      'activity.verify': () => this.services.activity.verify(),
      'system.openPane': async (payload) => ({ opened: (await this.platform.openSystemPane?.((payload as { pane: 'full-disk-access' }).pane)) ?? false }),
      'window.openSettings': (payload) => {
        this.platform.openSettings?.((payload as { section?: string }).section);
        return { opened: true as const };
      },
    };
    this.#unsubscribe.push(this.services.onApprovalRequested(() => this.changed()));
    this.#unsubscribe.push(this.services.onAlert(() => this.changed()));
  }

  /** Parses the payload against the contract, runs the handler, and answers a value — never a thrown error. */
  async invoke(channel: string, payload: unknown): Promise<IpcResult<unknown>> {
    if (!Object.hasOwn(IPC_REQUESTS, channel)) return { ok: false, code: 'unknown_channel', message: `Unknown request "${channel}".` };
    const schema = IPC_REQUESTS[channel as IpcChannel];
    const parsed = schema.safeParse(payload ?? {});
    if (!parsed.success) {
      const problem = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`).join('; ');
      return { ok: false, code: 'bad_request', message: `That request was malformed (${problem}).` };
    }
    try {
      const value = await this.#handlers[channel as IpcChannel](parsed.data);
      // A handler may answer an error value of its own; anything else (even an object with `ok: false`, like a
      // failed log verification) is the value.
      if (value && typeof value === 'object' && (value as { ok?: unknown }).ok === false && 'code' in value && 'message' in value) {
        return value as IpcResult<unknown>;
      }
      if (value && typeof value === 'object' && 'ok' in value && 'value' in value) return value as IpcResult<unknown>;
      return { ok: true, value };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, code: error instanceof ConfigError ? 'invalid_settings' : 'failed', message: this.services.broker.redact(message) };
    }
  }

  onState(listener: (snapshot: Snapshot) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  onChatEvent(listener: (event: ChatEvent) => void): () => void {
    this.#chatListeners.add(listener);
    return () => this.#chatListeners.delete(listener);
  }

  /** Something changed: push a fresh snapshot (coalesced to one per tick). */
  changed(): void {
    if (this.#pushTimer || this.#disposed) return;
    this.#pushTimer = setTimeout(() => {
      this.#pushTimer = undefined;
      if (this.#disposed) return;
      const snapshot = this.snapshot();
      for (const listener of this.#stateListeners) listener(snapshot);
    }, 0);
  }

  snapshot(): Snapshot {
    const { services } = this;
    const approvals = services.approvals.pending();
    const paused = services.switches.get('paused');
    const breaker = services.switches.get('outbound_tripped');
    const statuses = this.platform.channelStatuses?.() ?? [];
    const channels: ChannelDot[] = (['imessage', 'telegram'] as const).map((channel) => {
      const enabled = services.config.channels[channel].enabled;
      const status = statuses.find((item) => item.channel === channel);
      return { channel, enabled, state: enabled ? (status?.state ?? 'starting') : 'off', ...(status?.detail ? { detail: status.detail } : {}) };
    });
    return {
      approvals,
      paused: paused.on,
      breaker: breaker.on ? { tripped: true, ...(breaker.reason ? { reason: breaker.reason } : {}) } : { tripped: false },
      channels,
      model: { provider: services.config.model.provider, name: services.config.model.name },
      spend: { todayUsd: services.spentTodayUsd(), capUsd: services.config.limits.dailySpendUsd },
      recent: services.activity
        .list({ limit: 200 })
        .filter((row) => (row.kind === 'effect' && !onlyReads(row)) || row.kind === 'approval_decided')
        .slice(-4)
        .reverse()
        .map(toItem),
      tray: paused.on ? 'paused' : approvals.length > 0 ? 'approval' : this.#turn ? 'working' : 'idle',
      turnRunning: this.#turn !== undefined,
    };
  }

  settings(): SettingsView {
    const { services } = this;
    // Read afresh: the window shows what is saved, even before a restart applies it.
    let config = services.config;
    try {
      config = loadConfig(services.paths.config);
    } catch {
      // An invalid file on disk: show what is running.
    }
    return {
      model: { provider: config.model.provider, name: config.model.name, ...(config.model.baseURL ? { baseURL: config.model.baseURL } : {}) },
      limits: {
        dailySpendUsd: config.limits.dailySpendUsd,
        perRecipientPerMinute: config.limits.pacing.perRecipientPerMinute,
        perRecipientPerHour: config.limits.pacing.perRecipientPerHour,
        overallPerHour: config.limits.pacing.overallPerHour,
        approvalTimeoutMinutes: config.permissions.approvalTimeoutMinutes,
      },
      secrets: [],
      persona: readSafe(services.paths.soul),
      channels: {
        imessage: { enabled: config.channels.imessage.enabled, owners: config.channels.imessage.owners, fullDiskAccess: this.platform.fullDiskAccess?.() ?? 'unknown' },
        telegram: { enabled: config.channels.telegram.enabled, owners: [...config.channels.telegram.owners, ...services.channels.identities('owner').filter((item) => item.channel === 'telegram').map((item) => item.identity)], tokenStored: false },
        pendingPairings: services.approvals.pending().filter((approval) => approval.tool === 'pair_sender'),
      },
      openAtLogin: this.platform.getOpenAtLogin?.() ?? false,
      home: services.paths.home,
    };
  }

  dispose(): void {
    this.#disposed = true;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    if (this.#pushTimer) clearTimeout(this.#pushTimer);
    this.#turn?.abort();
  }

  async #settingsWithSecrets(): Promise<SettingsView> {
    const view = this.settings();
    let stored: string[] = [];
    try {
      stored = await this.services.secrets.list();
    } catch {
      // The Keychain is unavailable: every secret shows as not stored, and the pane says so.
    }
    const names = [this.services.config.model.provider, TELEGRAM_TOKEN_SECRET];
    return {
      ...view,
      secrets: names.map((name) => ({ name, label: SECRET_LABELS[name] ?? name, stored: stored.includes(name) })),
      channels: { ...view.channels, telegram: { ...view.channels.telegram, tokenStored: stored.includes(TELEGRAM_TOKEN_SECRET) } },
    };
  }

  #decide(request: { id: string; decision: 'approve' | 'deny'; grantMinutes?: number }): IpcResult<ApprovalView> {
    const result = this.services.gate.decide(request.id, request.decision, 'popover', request.grantMinutes ? { grantMinutes: request.grantMinutes } : {});
    this.changed();
    return result.ok ? { ok: true, value: result.value } : { ok: false, code: result.code, message: result.message };
  }

  #setPaused(paused: boolean): { paused: boolean } {
    this.services.setPaused(paused, 'owner:popover');
    if (paused) this.#turn?.abort();
    this.changed();
    return { paused };
  }

  #sendChat(text: string): IpcResult<{ accepted: true }> {
    if (this.#turn) return { ok: false, code: 'busy', message: 'Pavise is still answering; wait for it or press Stop.' };
    this.#chatSession ??= this.services.localSession();
    const sessionId = this.#chatSession;
    const controller = new AbortController();
    this.#turn = controller;
    this.#emitChat({ type: 'user', text, ts: Date.now() });
    this.changed();
    void this.services
      .ask(sessionId, text, {
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'text_delta') this.#emitChat({ type: 'text_delta', text: event.text });
          else if (event.type === 'tool_start') {
            const tool = this.services.tools.get(event.name);
            let summary = event.name;
            try {
              if (tool) summary = tool.describe(tool.input.parse(event.input));
            } catch {
              // The model's arguments did not parse; the tool name is enough.
            }
            this.#emitChat({ type: 'tool_start', name: event.name, summary });
          } else if (event.type === 'tool_end') this.#emitChat({ type: 'tool_end', name: event.name, isError: event.isError });
        },
      })
      .then(
        (result) => this.#emitChat({ type: 'done', reply: result.reply, ...(result.error ? { error: result.error.message } : {}), ts: Date.now() }),
        (error: unknown) => this.#emitChat({ type: 'done', reply: '', error: error instanceof Error ? error.message : String(error), ts: Date.now() }),
      )
      .finally(() => {
        this.#turn = undefined;
        this.changed();
      });
    return { ok: true, value: { accepted: true } };
  }

  #emitChat(event: ChatEvent): void {
    for (const listener of this.#chatListeners) listener(event);
  }

  #chatHistory(limit: number): ChatLine[] {
    this.#chatSession ??= this.services.localSession();
    const lines: ChatLine[] = [];
    for (const message of this.services.history(this.#chatSession)) {
      if (message.role === 'user') lines.push({ role: 'user', text: message.content, ts: message.timestamp });
      else if (message.role === 'assistant') {
        const text = textOf(message) || (message.error ? message.error.message : '');
        if (text) lines.push({ role: 'assistant', text, ts: message.timestamp });
      }
    }
    return lines.slice(-limit);
  }

  async #updateSettings(patch: {
    model?: { provider: 'anthropic' | 'openai' | 'openai-compatible'; name?: string; baseURL?: string };
    limits?: Partial<SettingsView['limits']>;
    imessageOwners?: string[];
    openAtLogin?: boolean;
  }): Promise<SettingsView> {
    const path = this.services.paths.config;
    const raw = JSON.parse(readSafe(path) || '{}') as Record<string, Record<string, unknown>>;
    if (patch.model) raw.model = { ...(raw.model ?? {}), ...patch.model };
    if (patch.limits) {
      const { dailySpendUsd, perRecipientPerMinute, perRecipientPerHour, overallPerHour, approvalTimeoutMinutes } = patch.limits;
      const limits = { ...(raw.limits ?? {}) } as Record<string, unknown>;
      if (dailySpendUsd !== undefined) limits.dailySpendUsd = dailySpendUsd;
      const pacing = { ...((limits.pacing as Record<string, unknown> | undefined) ?? {}) };
      if (perRecipientPerMinute !== undefined) pacing.perRecipientPerMinute = perRecipientPerMinute;
      if (perRecipientPerHour !== undefined) pacing.perRecipientPerHour = perRecipientPerHour;
      if (overallPerHour !== undefined) pacing.overallPerHour = overallPerHour;
      if (Object.keys(pacing).length > 0) limits.pacing = pacing;
      raw.limits = limits;
      if (approvalTimeoutMinutes !== undefined) raw.permissions = { ...(raw.permissions ?? {}), approvalTimeoutMinutes };
    }
    if (patch.imessageOwners) {
      const channels = { ...(raw.channels ?? {}) } as Record<string, Record<string, unknown>>;
      channels.imessage = { ...(channels.imessage ?? {}), owners: patch.imessageOwners };
      raw.channels = channels;
    }
    const text = `${JSON.stringify(raw, null, 2)}\n`;
    parseConfig(text, path); // refuses anything invalid before it is written; nothing is lost on a bad edit
    const temporary = `${path}.tmp`;
    writeFileSync(temporary, text, { mode: 0o600 });
    renameSync(temporary, path);
    if (patch.openAtLogin !== undefined) this.platform.setOpenAtLogin?.(patch.openAtLogin);
    this.services.activity.append({ kind: 'system', summary: 'Changed settings', actor: 'owner:settings', detail: { fields: Object.keys(patch) } });
    return this.#settingsWithSecrets();
  }

  #activity(request: { sinceMs?: number; kind?: string; decision?: string; limit?: number }): ActivityItem[] {
    return this.services.activity
      .list({ since: request.sinceMs ?? 0, limit: request.limit ?? 500, ...(request.kind ? { kind: request.kind as never } : {}) })
      .filter((row) => !request.decision || row.decision === request.decision)
      .reverse()
      .map(toItem);
  }
}

/** Reading the owner's own data is not something Pavise "did" for the Recently list. */
function onlyReads(row: ActivityRow): boolean {
  const effects = (row.detail as { effects?: { kind?: string }[] }).effects;
  return Array.isArray(effects) && effects.length > 0 && effects.every((effect) => effect.kind === 'read_private');
}

function toItem(row: ActivityRow): ActivityItem {
  const effects = (row.detail as { effects?: { recipient?: string; host?: string; target?: string }[] }).effects;
  const first = effects?.[0];
  const target = first?.recipient ?? first?.host ?? first?.target;
  return {
    id: row.id,
    ts: row.ts,
    kind: row.kind,
    summary: row.summary,
    actor: row.actor,
    ...(row.tool ? { tool: row.tool } : {}),
    ...(row.decision ? { decision: row.decision } : {}),
    ...(target ? { target } : {}),
  };
}

function readSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

