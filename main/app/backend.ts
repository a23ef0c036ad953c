import type { ApprovalView } from '../common/approvals.js';
import { Emitter } from '../common/emitter.js';
import { IPC_REQUESTS, type ChatEvent, type IpcChannel, type IpcResult, type SettingsView, type Snapshot } from '../common/ipc.js';
import { ConfigStore } from '../config/config-store.js';
import { ConfigError } from '../config/config.js';
import type { PermissionGate } from '../permissions/gate.js';
import type { SecretBroker } from '../permissions/secret-broker.js';
import { ChatSession, type ChatSessionDeps } from './chat-session.js';
import { activityHandlers } from './handlers/activity.js';
import { approvalHandlers } from './handlers/approvals.js';
import { chatHandlers } from './handlers/chat.js';
import { memoryHandlers, type MemoryHandlerDeps } from './handlers/memory.js';
import type { Handler } from './handlers/handler.js';
import { scheduleHandlers, type ScheduleHandlerDeps } from './handlers/schedule.js';
import { settingsHandlers, type SettingsHandlerDeps } from './handlers/settings.js';
import { shellHandlers } from './handlers/shell.js';
import { skillHandlers } from './handlers/skills.js';
import { mcpHandlers } from './handlers/mcp.js';
import { handsHandlers } from './handlers/hands.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { stateHandlers } from './handlers/state.js';
import { buildSettings, buildSnapshot, type PlatformHooks, type SnapshotDeps } from './snapshot.js';

export type { PlatformHooks } from './snapshot.js';

/** What the app backend uses from the core. */
export interface AppDeps extends SnapshotDeps, ChatSessionDeps, ScheduleHandlerDeps, MemoryHandlerDeps, Omit<SettingsHandlerDeps, 'configStore' | 'activity' | 'broker'> {
  readonly paths: { readonly home: string; readonly soul: string; readonly config: string };
  readonly activity: SnapshotDeps['activity'] & SettingsHandlerDeps['activity'] & Parameters<typeof activityHandlers>[0];
  readonly broker: Pick<SecretBroker, 'remember' | 'redact'>;
  readonly gate: Pick<PermissionGate, 'decide'>;
  readonly setPaused: (paused: boolean, actor: string) => void;
  readonly events: Pick<Emitter<{ approval: [ApprovalView]; alert: [string] }>, 'on'>;
  readonly skills: Parameters<typeof skillHandlers>[0]['skills'];
  readonly secrets: SecretStore;
}

const MAX_NOTICES = 3;
const NOTICE_TTL_MS = 24 * 3_600_000;

/**
 * The core behind `window.pavise`: parses each payload with the contract in main/common/ipc.ts and dispatches it
 * to its domain's handler (main/app/handlers/). Electron's ipcMain and the Playwright bridge both call `invoke`;
 * neither sees a secret.
 */
export class AppBackend {
  readonly #pushes = new Emitter<{ state: [snapshot: Snapshot]; chat: [event: ChatEvent] }>();
  readonly #handlers: { readonly [C in IpcChannel]: Handler<C> };
  readonly #chat: ChatSession;
  readonly #configStore: ConfigStore;
  #disposed = false;
  #pushTimer: NodeJS.Timeout | undefined;
  readonly #unsubscribe: (() => void)[] = [];
  /** The last alerts (failed deliveries, doctor findings, a restarted gateway), newest first, shown until dismissed by age. */
  #notices: { readonly text: string; readonly ts: number }[] = [];

  constructor(
    private readonly deps: AppDeps,
    private readonly platform: PlatformHooks = {},
  ) {
    this.#configStore = new ConfigStore(deps.paths.config);
    this.#chat = new ChatSession(
      deps,
      (event) => this.#pushes.emit('chat', event),
      () => this.changed(),
    );
    const changed = () => this.changed();
    this.#handlers = {
      ...stateHandlers({ snapshot: () => this.snapshot(), setPaused: deps.setPaused, abortTurn: () => this.#chat.abort(), changed }),
      ...approvalHandlers({ gate: deps.gate, changed }),
      ...chatHandlers(this.#chat),
      ...settingsHandlers({ ...deps, configStore: this.#configStore }, platform),
      ...activityHandlers(deps.activity),
      ...memoryHandlers(deps),
      ...shellHandlers(platform),
      ...scheduleHandlers(deps, changed),
      ...mcpHandlers({ configStore: this.#configStore, tools: deps.tools, activity: deps.activity }),
      ...skillHandlers({ skills: deps.skills, activity: deps.activity, secrets: deps.secrets, broker: deps.broker, changed, ...(platform.pickSkillPath ? { pickSkillPath: () => platform.pickSkillPath?.() ?? Promise.resolve(undefined) } : {}) }),
      ...handsHandlers({ config: deps.config, configStore: this.#configStore, secrets: deps.secrets }),
    };
    this.#unsubscribe.push(deps.events.on('approval', changed));
    this.#unsubscribe.push(
      deps.events.on('alert', (text) => {
        this.#notices = [{ text: deps.broker.redact(text), ts: Date.now() }, ...this.#notices].slice(0, MAX_NOTICES);
        changed();
      }),
    );
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
      const value = await (this.#handlers[channel as IpcChannel] as (payload: unknown) => unknown)(parsed.data);
      // A handler may answer an error value of its own; anything else (even an object with `ok: false`, like a
      // failed log verification) is the value.
      if (value && typeof value === 'object' && (value as { ok?: unknown }).ok === false && 'code' in value && 'message' in value) {
        return value as IpcResult<unknown>;
      }
      if (value && typeof value === 'object' && 'ok' in value && 'value' in value) return value as IpcResult<unknown>;
      return { ok: true, value };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, code: error instanceof ConfigError ? 'invalid_settings' : 'failed', message: this.deps.broker.redact(message) };
    }
  }

  onState(listener: (snapshot: Snapshot) => void): () => void {
    return this.#pushes.on('state', listener);
  }

  onChatEvent(listener: (event: ChatEvent) => void): () => void {
    return this.#pushes.on('chat', listener);
  }

  /** Something changed: push a fresh snapshot (coalesced to one per tick). */
  changed(): void {
    if (this.#pushTimer || this.#disposed) return;
    this.#pushTimer = setTimeout(() => {
      this.#pushTimer = undefined;
      if (this.#disposed) return;
      this.#pushes.emit('state', this.snapshot());
    }, 0);
  }

  snapshot(): Snapshot {
    const since = Date.now() - NOTICE_TTL_MS;
    return buildSnapshot(this.deps, this.platform, this.#chat.running, this.#notices.filter((notice) => notice.ts >= since));
  }

  settings(): SettingsView {
    return buildSettings({ ...this.deps, configStore: this.#configStore }, this.platform);
  }

  dispose(): void {
    this.#disposed = true;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    if (this.#pushTimer) clearTimeout(this.#pushTimer);
    this.#chat.abort();
  }
}
