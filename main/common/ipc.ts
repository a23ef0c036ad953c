import { z } from 'zod';
import type { ApprovalView } from './approvals.js';
import type { ChannelId } from './channels.js';
import type { MemoryView } from './memory-view.js';
import { API_CHANNELS as CHANNELS_OF_API, type IpcChannelName } from './ipc-channels.js';
import type { Risk } from './effects.js';
import { PROVIDER_IDS, type ProviderId } from './providers.js';
import { FilesConfigSchema, HomeConfigSchema, MailConfigSchema, TerminalConfigSchema, WebConfigSchema } from './config-schema.js';

/**
 * The one API between the renderer and the core (`window.pavise`). The preload exposes exactly these methods;
 * the main side checks every sender and parses every payload with these schemas. Secrets go in, never out.
 * Channels are named `domain.verb`; every call answers a value (`{ ok: true, value } | { ok: false, code, message }`).
 */

export const PaneSchema = z.enum(['full-disk-access', 'automation', 'notifications', 'calendars', 'contacts']);

const SkillNameSchema = z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/).max(64);

export const IPC_REQUESTS = {
  'state.get': z.object({}).strict(),
  'approvals.decide': z
    .object({
      id: z.string().regex(/^ap_[a-z2-7]{12}$/),
      decision: z.enum(['approve', 'deny']),
      grantMinutes: z.literal(60).optional(),
    })
    .strict(),
  'pause.set': z.object({ paused: z.boolean() }).strict(),
  'chat.send': z.object({ text: z.string().trim().min(1).max(20_000) }).strict(),
  'chat.abort': z.object({}).strict(),
  'chat.history': z.object({ limit: z.int().min(1).max(500).optional() }).strict(),
  'settings.get': z.object({}).strict(),
  'settings.update': z
    .object({
      model: z
        .object({
          provider: z.enum(PROVIDER_IDS),
          name: z.string().trim().min(1).max(200).optional(),
          baseURL: z.url({ protocol: /^https?$/ }).optional(),
        })
        .strict()
        .optional(),
      limits: z
        .object({
          dailySpendUsd: z.number().min(0).max(1_000).optional(),
          perRecipientPerMinute: z.int().min(1).max(10).optional(),
          perRecipientPerHour: z.int().min(1).max(60).optional(),
          overallPerHour: z.int().min(1).max(150).optional(),
          approvalTimeoutMinutes: z.int().min(1).max(60).optional(),
        })
        .strict()
        .optional(),
      imessageOwners: z.array(z.string().trim().min(3).max(200)).max(20).optional(),
      openAtLogin: z.boolean().optional(),
      // The config schemas' defaults are removed: a field the patch does not name must stay absent, not become [].
      folders: FilesConfigSchema.shape.folders.unwrap().optional(),
      httpHosts: WebConfigSchema.shape.httpHosts.unwrap().optional(),
      mailAccounts: MailConfigSchema.shape.accounts.unwrap().optional(),
      /** The Home Assistant address; null removes it. */
      homeAssistantUrl: HomeConfigSchema.shape.assistant.unwrap().shape.url.nullable().optional(),
      shortcuts: HomeConfigSchema.shape.shortcuts.unwrap().optional(),
      /** The read-only commands that run unasked: only names from the built-in list, so it can only get shorter. */
      readOnlyCommands: TerminalConfigSchema.shape.readOnlyCommands.unwrap().optional(),
    })
    .strict(),
  'secrets.set': z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/), value: z.string().min(1).max(10_000) }).strict(),
  'secrets.remove': z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/) }).strict(),
  'persona.save': z.object({ text: z.string().max(100_000) }).strict(),
  'pairing.create': z.object({ channel: z.literal('telegram') }).strict(),
  'activity.list': z
    .object({
      sinceMs: z.number().int().min(0).optional(),
      kind: z.string().max(40).optional(),
      decision: z.string().max(40).optional(),
      limit: z.int().min(1).max(2_000).optional(),
    })
    .strict(),
  'activity.verify': z.object({}).strict(),
  'schedule.list': z.object({}).strict(),
  'schedule.remove': z.object({ id: z.int().positive() }).strict(),
  /** A time in words, read by the parser `pavise schedule add` uses; answers what it means, or why it cannot. */
  'schedule.preview': z.object({ when: z.string().trim().min(1).max(200) }).strict(),
  /** A reminder from settings: the owner's own words, delivered to their preferred chat. */
  'schedule.add': z.object({ text: z.string().trim().min(1).max(1_000), when: z.string().trim().min(1).max(200) }).strict(),
  'schedule.edit': z
    .object({ id: z.int().positive(), text: z.string().trim().min(1).max(1_000).optional(), when: z.string().trim().min(1).max(200).optional() })
    .strict()
    .refine((edit) => edit.text !== undefined || edit.when !== undefined, 'give the new text, the new time, or both'),
  'schedule.setPaused': z.object({ id: z.int().positive(), paused: z.boolean() }).strict(),
  'schedule.runNow': z.object({ id: z.int().positive() }).strict(),
  'system.openPane': z.object({ pane: PaneSchema }).strict(),
  'window.openSettings': z.object({ section: z.enum(['general', 'channels', 'skills', 'memory', 'limits', 'activity', 'files', 'mail', 'home']).optional() }).strict(),
  'skills.list': z.object({}).strict(),
  'skills.setEnabled': z.object({ name: SkillNameSchema, enabled: z.boolean() }).strict(),
  'skills.remove': z.object({ name: SkillNameSchema }).strict(),
  'skills.review': z.object({ name: SkillNameSchema }).strict(),
  'skills.trust': z.object({ name: SkillNameSchema, hash: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
  'skills.pick': z.object({}).strict(),
  'skills.install': z
    .object({ path: z.string().min(1).max(4096), hash: z.string().regex(/^[0-9a-f]{64}$/), grant: z.array(z.string().max(4200)).max(200) })
    .strict(),
  'memory.list': z
    .object({
      query: z.string().trim().max(500).optional(),
      /** A `MemoryPerson.key`: only memories whose words came from that person. */
      person: z.string().max(300).optional(),
      includeReplaced: z.boolean().optional(),
    })
    .strict(),
  'memory.add': z.object({ text: z.string().trim().min(1).max(2_000) }).strict(),
  'memory.forget': z.object({ id: z.int().positive() }).strict(),
  'memory.export': z.object({ format: z.enum(['jsonl', 'md']) }).strict(),
  'skills.setSecret': z.object({ name: SkillNameSchema, secret: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/), value: z.string().min(1).max(10_000) }).strict(),
  'skills.removeSecret': z.object({ name: SkillNameSchema, secret: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/) }).strict(),
  'mcp.list': z.object({}).strict(),
  'mcp.setEnabled': z.object({ name: SkillNameSchema, enabled: z.boolean() }).strict(),
  'mcp.remove': z.object({ name: SkillNameSchema }).strict(),
  'mcp.add': z
    .object({
      name: SkillNameSchema,
      command: z.string().trim().min(1).max(4096),
      args: z.array(z.string().max(4096)).max(64),
      files: z.array(z.object({ path: z.string().min(1).max(4096), access: z.enum(['read', 'write']) }).strict()).max(32),
      binaries: z.array(z.string().startsWith('/').max(4096)).max(32),
    })
    .strict(),
  /** Only tighter: `ask` or `deny`, or null to go back to what the annotations say. */
  'mcp.setToolOverride': z.object({ name: SkillNameSchema, tool: z.string().min(1).max(128), override: z.enum(['ask', 'deny']).nullable() }).strict(),
  'mail.test': z.object({ id: MailConfigSchema.shape.accounts.unwrap().element.shape.id }).strict(),
  'home.test': z.object({}).strict(),
} as const;

export type IpcChannel = keyof typeof IPC_REQUESTS;

// The channel names live in a zod-free module so the sandboxed preload stays tiny; this line keeps both in step.
const _everyChannelHasASchema: Record<IpcChannelName, unknown> = IPC_REQUESTS;
void _everyChannelHasASchema;
export { API_CHANNELS, IPC_EVENTS, type IpcChannelName, type IpcEventChannel } from './ipc-channels.js';
export type IpcRequest<C extends IpcChannel> = z.input<(typeof IPC_REQUESTS)[C]>;

export type IpcResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: string; readonly message: string };

export type ChannelDot = {
  readonly channel: ChannelId;
  readonly enabled: boolean;
  readonly state: 'connected' | 'starting' | 'retrying' | 'stopped' | 'needs_setup' | 'off';
  readonly detail?: string;
};

export interface ActivityItem {
  readonly id: number;
  readonly ts: number;
  readonly kind: string;
  readonly summary: string;
  readonly tool?: string;
  readonly decision?: string;
  readonly actor: string;
  /** To whom, where the row names one (a recipient, a host). */
  readonly target?: string;
}

/** Everything the popover shows, pushed whenever it changes. */
export interface Snapshot {
  readonly approvals: readonly ApprovalView[];
  readonly paused: boolean;
  readonly breaker: { readonly tripped: boolean; readonly reason?: string };
  readonly channels: readonly ChannelDot[];
  readonly model: { readonly provider: string; readonly name: string };
  readonly spend: { readonly todayUsd: number; readonly capUsd: number };
  readonly recent: readonly ActivityItem[];
  /** Tray icon state. */
  readonly tray: 'idle' | 'working' | 'approval' | 'paused';
  readonly turnRunning: boolean;
  /** The soonest reminder, briefing or alert check ("Next up" in the popover). */
  readonly nextUp?: { readonly kind: string; readonly title: string; readonly at: number };
  /** What the owner must know that is not an approval: a delivery that failed, a doctor finding, a restarted gateway. */
  readonly notices?: readonly { readonly text: string; readonly ts: number }[];
  /** Installed skills whose files changed after review: off until the owner reviews them again. */
  readonly driftedSkills?: readonly string[];
}

/** One installed skill as the Skills pane shows it. */
export interface SkillView {
  readonly name: string;
  readonly state: 'enabled' | 'disabled' | 'changed';
  readonly hash: string;
  /** Granted permissions as the owner reads them: `network:api.open-meteo.com`, `secret:NAME`… */
  readonly granted: readonly string[];
  readonly source: string;
  readonly installedAt: number;
  readonly recent: readonly ActivityItem[];
  /** The secrets granted to it, for its settings: whether each is in the Keychain — never a value. */
  readonly secrets: readonly { readonly name: string; readonly stored: boolean }[];
}

/** One configured MCP server as the Skills pane shows it. */
export interface McpServerView {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly enabled: boolean;
  /** Whether this Pavise started it and it offered tools; config changes apply at the next start. */
  readonly running: boolean;
  /** `read:/path`, `write:/path`, `binary:/path`. */
  readonly permissions: readonly string[];
  /** Its tools as the host evaluates them (Pavise's names), with the effect kinds the gate sees. */
  readonly tools: readonly { readonly name: string; readonly effects: readonly string[] }[];
  /** The owner's tightening, by the server's own tool name. */
  readonly overrides: Readonly<Record<string, 'ask' | 'deny'>>;
}

/** What the review sheet shows before the owner trusts a skill's content. */
export interface SkillReviewView {
  readonly name: string;
  readonly description: string;
  readonly author?: string;
  readonly license?: string;
  readonly kind: 'code' | 'instructions';
  readonly hash: string;
  /** The hash the owner trusted before, for an installed skill that changed; absent for a new install. */
  readonly pinnedHash?: string;
  /** Where a new skill is installed from (the picked folder or archive). */
  readonly path?: string;
  readonly files: readonly { readonly path: string; readonly size: number }[];
  readonly asked: readonly string[];
  readonly findings: readonly { readonly severity: 'warning' | 'danger'; readonly rule: string; readonly where: string; readonly excerpt: string }[];
}

export type ChatEvent =
  | { readonly type: 'user'; readonly text: string; readonly ts: number }
  | { readonly type: 'text_delta'; readonly text: string }
  | { readonly type: 'tool_start'; readonly name: string; readonly summary: string }
  | { readonly type: 'tool_end'; readonly name: string; readonly isError: boolean }
  | { readonly type: 'done'; readonly reply: string; readonly error?: string; readonly ts: number };

export interface ChatLine {
  readonly role: 'user' | 'assistant';
  readonly text: string;
  readonly ts: number;
}

export interface SecretStatus {
  readonly name: string;
  readonly label: string;
  readonly stored: boolean;
}

export interface SettingsView {
  readonly model: { readonly provider: ProviderId; readonly name: string; readonly baseURL?: string };
  readonly limits: {
    readonly dailySpendUsd: number;
    readonly perRecipientPerMinute: number;
    readonly perRecipientPerHour: number;
    readonly overallPerHour: number;
    readonly approvalTimeoutMinutes: number;
  };
  /** Which secrets exist — never their values. */
  readonly secrets: readonly SecretStatus[];
  readonly persona: string;
  readonly channels: {
    readonly imessage: { readonly enabled: boolean; readonly owners: readonly string[]; readonly fullDiskAccess: 'granted' | 'denied' | 'unknown' };
    readonly telegram: { readonly enabled: boolean; readonly owners: readonly string[]; readonly tokenStored: boolean };
    readonly pendingPairings: readonly ApprovalView[];
  };
  readonly openAtLogin: boolean;
  readonly home: string;
  /** Files & Web, Mail and Home panes: what config.json grants, and which of their secrets exist (never the values). */
  readonly hands?: HandsView;
}

export interface MailServerView {
  readonly host: string;
  readonly port: number;
  readonly tls: 'implicit' | 'starttls' | 'none';
}

export interface HandsView {
  readonly folders: readonly { readonly path: string; readonly access: 'read' | 'read-write' }[];
  readonly httpHosts: readonly string[];
  readonly mailAccounts: readonly {
    readonly id: string;
    readonly address: string;
    readonly name?: string;
    readonly user?: string;
    readonly imap: MailServerView;
    readonly smtp: MailServerView;
    readonly passwordStored: boolean;
  }[];
  readonly homeAssistant: { readonly url?: string; readonly tokenStored: boolean };
  readonly shortcuts: readonly string[];
  /** The read-only commands run_command may run without asking (a subset of READ_ONLY_COMMANDS). */
  readonly readOnlyCommands: readonly string[];
}

/** What "Test" found: each part in words, `ok` only when every part worked. */
export interface ConnectionTestView {
  readonly ok: boolean;
  readonly parts: readonly { readonly name: string; readonly ok: boolean; readonly detail: string }[];
}

/** A reminder, briefing or alert as the Schedules pane lists it. */
export interface ScheduleItemView {
  readonly id: number;
  readonly kind: 'reminder' | 'briefing' | 'alert' | 'turn';
  readonly title: string;
  readonly when: string;
  readonly nextRunAt: number | undefined;
  readonly status: string;
}

/** What a time in words means before it is saved. */
export interface SchedulePreview {
  readonly when: string;
  readonly firstRunAt: number;
  readonly recurring: boolean;
}

/** A job run from settings: `delivered`, `failed`, `nothing` (its precondition found nothing), or still `running`. */
export interface ScheduleRunView {
  readonly status: string;
  readonly detail?: string;
}

/** Whose words memories hold: the owner, each contact, each untrusted source; `key` filters `memory.list`. */
export interface MemoryPerson {
  readonly key: string;
  readonly label: string;
  readonly count: number;
}

/** A remembered message found by search, with its label and where it came from. */
export interface RecalledView {
  readonly id: number;
  readonly text: string;
  readonly at: number;
  readonly from: string;
  readonly untrusted: boolean;
  readonly sender: string;
  readonly source: string;
}

export interface MemoryListing {
  readonly memories: readonly MemoryView[];
  readonly people: readonly MemoryPerson[];
  /** Messages matching the query, from everything remembered (empty without a query). */
  readonly recalled: readonly RecalledView[];
  /** Why recalled messages are missing, when search failed. */
  readonly notice?: string;
}

/** The API the preload exposes as `window.pavise`. */
export interface PaviseApi {
  getState(): Promise<IpcResult<Snapshot>>;
  decideApproval(request: IpcRequest<'approvals.decide'>): Promise<IpcResult<ApprovalView>>;
  setPaused(request: IpcRequest<'pause.set'>): Promise<IpcResult<{ paused: boolean }>>;
  sendChat(request: IpcRequest<'chat.send'>): Promise<IpcResult<{ accepted: true }>>;
  abortChat(): Promise<IpcResult<{ aborted: boolean }>>;
  chatHistory(request?: IpcRequest<'chat.history'>): Promise<IpcResult<ChatLine[]>>;
  getSettings(): Promise<IpcResult<SettingsView>>;
  updateSettings(request: IpcRequest<'settings.update'>): Promise<IpcResult<SettingsView>>;
  setSecret(request: IpcRequest<'secrets.set'>): Promise<IpcResult<{ stored: true }>>;
  removeSecret(request: IpcRequest<'secrets.remove'>): Promise<IpcResult<{ removed: boolean }>>;
  savePersona(request: IpcRequest<'persona.save'>): Promise<IpcResult<{ saved: true }>>;
  createPairingCode(request: IpcRequest<'pairing.create'>): Promise<IpcResult<{ code: string; expiresAt: number }>>;
  listActivity(request?: IpcRequest<'activity.list'>): Promise<IpcResult<ActivityItem[]>>;
  verifyActivity(): Promise<IpcResult<{ ok: boolean; count: number; unverifiable?: number; badRowId?: number; problem?: string }>>;
  openSystemPane(request: IpcRequest<'system.openPane'>): Promise<IpcResult<{ opened: boolean }>>;
  openSettings(request?: IpcRequest<'window.openSettings'>): Promise<IpcResult<{ opened: true }>>;
  listSchedule(): Promise<IpcResult<ScheduleItemView[]>>;
  removeScheduled(request: IpcRequest<'schedule.remove'>): Promise<IpcResult<{ removed: boolean }>>;
  previewScheduleTime(request: IpcRequest<'schedule.preview'>): Promise<IpcResult<SchedulePreview>>;
  addScheduled(request: IpcRequest<'schedule.add'>): Promise<IpcResult<ScheduleItemView>>;
  editScheduled(request: IpcRequest<'schedule.edit'>): Promise<IpcResult<ScheduleItemView>>;
  setScheduledPaused(request: IpcRequest<'schedule.setPaused'>): Promise<IpcResult<ScheduleItemView>>;
  runScheduledNow(request: IpcRequest<'schedule.runNow'>): Promise<IpcResult<ScheduleRunView>>;
  listSkills(): Promise<IpcResult<SkillView[]>>;
  setSkillEnabled(request: IpcRequest<'skills.setEnabled'>): Promise<IpcResult<SkillView[]>>;
  removeSkill(request: IpcRequest<'skills.remove'>): Promise<IpcResult<SkillView[]>>;
  reviewSkill(request: IpcRequest<'skills.review'>): Promise<IpcResult<SkillReviewView>>;
  trustSkill(request: IpcRequest<'skills.trust'>): Promise<IpcResult<SkillView[]>>;
  pickSkill(): Promise<IpcResult<SkillReviewView | { cancelled: true }>>;
  installSkill(request: IpcRequest<'skills.install'>): Promise<IpcResult<SkillView[]>>;
  listMemory(request?: IpcRequest<'memory.list'>): Promise<IpcResult<MemoryListing>>;
  addMemory(request: IpcRequest<'memory.add'>): Promise<IpcResult<MemoryView>>;
  forgetMemory(request: IpcRequest<'memory.forget'>): Promise<IpcResult<{ forgotten: number }>>;
  exportMemory(request: IpcRequest<'memory.export'>): Promise<IpcResult<{ filename: string; text: string }>>;
  /** Stores a secret granted to a skill in the Keychain; the answer says only that it is stored. */
  setSkillSecret(request: IpcRequest<'skills.setSecret'>): Promise<IpcResult<SkillView[]>>;
  removeSkillSecret(request: IpcRequest<'skills.removeSecret'>): Promise<IpcResult<SkillView[]>>;
  listMcpServers(): Promise<IpcResult<McpServerView[]>>;
  setMcpServerEnabled(request: IpcRequest<'mcp.setEnabled'>): Promise<IpcResult<McpServerView[]>>;
  removeMcpServer(request: IpcRequest<'mcp.remove'>): Promise<IpcResult<McpServerView[]>>;
  addMcpServer(request: IpcRequest<'mcp.add'>): Promise<IpcResult<McpServerView[]>>;
  setMcpToolOverride(request: IpcRequest<'mcp.setToolOverride'>): Promise<IpcResult<McpServerView[]>>;
  testMail(request: IpcRequest<'mail.test'>): Promise<IpcResult<ConnectionTestView>>;
  testHome(): Promise<IpcResult<ConnectionTestView>>;
  onState(listener: (snapshot: Snapshot) => void): () => void;
  onChatEvent(listener: (event: ChatEvent) => void): () => void;
}

// Every API method has a channel, and every channel a schema.
const _everyMethodHasAChannel: Record<Exclude<keyof PaviseApi, 'onState' | 'onChatEvent'>, IpcChannel> = CHANNELS_OF_API;
void _everyMethodHasAChannel;
