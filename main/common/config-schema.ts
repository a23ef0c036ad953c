import { z } from 'zod';
import { PROVIDER_IDS, type ProviderId } from './providers.js';

export { PROVIDER_IDS };

/**
 * The shape of config.json. Shared by the core (which loads it) and the settings UI (which edits it).
 * Objects are strict so a misspelt field is reported instead of silently ignored.
 */

export const DEFAULT_MODEL_NAMES: Readonly<Record<ProviderId, string | undefined>> = {
  anthropic: 'claude-sonnet-5',
  openai: 'gpt-4.1',
  'openai-compatible': undefined,
};

/**
 * Plain http is readable and forgeable by anyone on the network path, so it is allowed only to this machine:
 * 127.0.0.0/8, ::1 and localhost. Anything else must be https.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  const octets = host.split('.');
  return octets.length === 4 && octets[0] === '127' && octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255);
}

/** An http(s) URL; http only for a loopback host, with an error naming the value and the fix. */
function serverUrl(example: string) {
  return z.url({ protocol: /^https?$/ }).superRefine((value, ctx) => {
    // main/common has no URL global; z.url() has already checked the shape, so the authority is where it should be.
    const plain = /^http:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(value);
    const hostname = plain?.[1];
    if (hostname !== undefined && !isLoopbackHost(hostname)) {
      ctx.addIssue({
        code: 'custom',
        input: value,
        message:
          `plain http to ${hostname}, which anyone on the network can read and change; ` +
          `use https (e.g. "${example}"), or http only for this machine (localhost, 127.0.0.1, ::1)`,
      });
    }
  });
}

export const ModelConfigSchema = z
  .strictObject({
    provider: z.enum(PROVIDER_IDS).default('anthropic'),
    name: z.string().min(1).optional(),
    baseURL: serverUrl('https://openrouter.ai/api/v1').optional(),
    maxOutputTokens: z.int().min(256).max(128_000).default(4096),
  })
  .superRefine((model, ctx) => {
    if (model.provider === 'openai-compatible' && !model.baseURL) {
      ctx.addIssue({
        code: 'custom',
        path: ['baseURL'],
        message: 'is required when provider is "openai-compatible" (for example "http://localhost:11434/v1" for Ollama)',
      });
    }
    if (model.provider === 'openai-compatible' && !model.name) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'is required when provider is "openai-compatible"' });
    }
  })
  .transform((model) => ({ ...model, name: model.name ?? DEFAULT_MODEL_NAMES[model.provider] ?? '' }));

/**
 * Runaway guards. Ceilings are hard: config can tighten below them, never loosen past them (Apple starts blocking
 * accounts at around 200 messages an hour).
 */
export const PacingConfigSchema = z.strictObject({
  perRecipientPerMinute: z.int().min(1).max(10).default(5),
  perRecipientPerHour: z.int().min(1).max(60).default(30),
  overallPerHour: z.int().min(1).max(150).default(100),
});

export const LimitsConfigSchema = z.strictObject({
  maxStepsPerTurn: z.int().min(1).max(100).default(12),
  maxTokensPerTurn: z.int().min(1_000).max(5_000_000).default(400_000),
  dailySpendUsd: z.number().min(0).max(1_000).default(5),
  pacing: PacingConfigSchema.prefault({}),
});

const EFFECT_KIND_VALUES = ['read_private', 'write_local', 'send_message', 'execute', 'network', 'spend', 'modify_calendar', 'delete', 'control_device'] as const;

/** Permissions can only be tightened: there is deliberately no field that allows more. */
export const PermissionsConfigSchema = z.strictObject({
  alwaysAsk: z.array(z.enum(EFFECT_KIND_VALUES)).default([]),
  deny: z.array(z.enum(EFFECT_KIND_VALUES)).default([]),
  approvalTimeoutMinutes: z.int().min(1).max(60).default(10),
});

/** Field names people reach for to loosen the gate; each gets an explanation instead of "unknown field". */
export const LOOSENING_FIELDS = ['allow', 'alwaysAllow', 'autoApprove', 'trust', 'yolo', 'skipApprovals'] as const;

const StaleSchema = z.int().min(1).max(7 * 24 * 60).default(60);

export const ImessageConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Phone numbers (E.164, e.g. "+15550001111") and Apple ID emails that are the owner. */
  owners: z.array(z.string().min(3)).default([]),
  /** Defaults to ~/Library/Messages/chat.db. */
  chatDbPath: z.string().min(1).optional(),
  /** Messages older than this when first seen (after downtime) are stored but not answered. */
  maxAgeMinutes: StaleSchema,
});

export const TelegramConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Numeric Telegram user ids of the owner; `pavise pair telegram` adds owners to the database (identities), not here. */
  owners: z.array(z.union([z.int().positive(), z.string().regex(/^\d+$/)]).transform(String)).default([]),
  /** A self-hosted Bot API server; defaults to https://api.telegram.org. */
  apiRoot: serverUrl('https://api.telegram.org').optional(),
  maxAgeMinutes: StaleSchema,
});

export const ChannelsConfigSchema = z.strictObject({
  imessage: ImessageConfigSchema.prefault({}),
  telegram: TelegramConfigSchema.prefault({}),
  /** What an unknown sender gets back once, while their pairing request waits; nothing when unset. */
  unknownSenderReply: z.string().min(1).max(500).optional(),
  /** Names that address Pavise in a group chat ("pavise, what's…"). */
  assistantNames: z.array(z.string().min(1)).default(['pavise']),
});

export const OwnerConfigSchema = z.strictObject({
  /** The owner's name: recall reads it in a query ("when did Sam …") as the owner's own messages. */
  name: z.string().trim().min(1).max(100).optional(),
  /**
   * Where the owner lives (ISO 3166 alpha-2, e.g. "GB"): phone numbers written without a country code are read
   * there. Defaults to the country of the first owner phone number, else "US".
   */
  region: z
    .string()
    .refine((region) => /^[A-Za-z]{2}$/.test(region), 'must be a two-letter country code (ISO 3166 alpha-2), e.g. "US" or "GB"')
    .transform((region) => region.toUpperCase())
    .optional(),
  /**
   * The owner's own email addresses (the accounts in Calendar): an attendee with one of them is the owner, and
   * adding them to an event mails nobody.
   */
  emails: z.array(z.email()).max(50).default([]),
});

export const MemoryEmbeddingsConfigSchema = z.strictObject({
  /** Any OpenAI-compatible server with `/v1/embeddings` (OpenAI, Ollama, LM Studio), e.g. "http://localhost:11434/v1". */
  baseURL: serverUrl('https://api.openai.com/v1'),
  model: z.string().min(1),
  /** The Keychain entry holding the endpoint's key (`pavise secrets set NAME`); none for a local server. */
  keyName: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a secret name such as "openai" or "embeddings"').optional(),
});

export const MemoryConfigSchema = z.strictObject({
  /** Off unless set: recall is full-text only, and works fully without it. */
  embeddings: MemoryEmbeddingsConfigSchema.optional(),
  /**
   * The most input tokens one model call carries: persona, tools, memories, the conversation's summary and its
   * newest turns. Older turns are compacted into the summary. Default: sized for the configured model.
   */
  contextTokens: z.int().min(2_000).max(1_000_000).optional(),
});

export const ApprovalsConfigSchema = z.strictObject({
  /**
   * Let the owner's paired Telegram account decide approvals of risk low or medium from the notice in its private
   * chat (inline Approve / Deny). Off: the notice only says where to decide on the computer Pavise runs on.
   */
  remote: z.boolean().default(true),
});

const ClockSchema = z.string().regex(/^([01]?\d|2[0-3]):[0-5]\d$/, 'must be a time of day as HH:MM, e.g. "07:30"');

/** Reminders, the morning briefing, alerts and quiet hours (main/scheduler). */
export const ScheduleConfigSchema = z.strictObject({
  /** The owner's IANA time zone ("Europe/Berlin"); defaults to this machine's. */
  timeZone: z.string().min(1).optional(),
  /** Where reminders and alerts go: the chat they were asked in (default), or always one channel. */
  deliverTo: z.enum(['asked', 'imessage', 'telegram']).default('asked'),
  /** Non-urgent deliveries (briefings, alerts) wait until quiet hours end; reminders the owner timed are not held. */
  quietHours: z.strictObject({ start: ClockSchema, end: ClockSchema }).optional(),
  briefing: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** A time per weekday; a day left out has no briefing. */
      times: z.partialRecord(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']), ClockSchema).default({}),
      /** Handles (phone, email, Telegram id) or names whose unread messages the briefing lists. */
      important: z.array(z.string().min(1)).default([]),
      /** The most the model may write when phrasing the briefing. */
      maxTokens: z.int().min(100).max(4_000).default(600),
      /** Where the weather line is for, when the weather skill is installed and enabled; without it, no weather line. */
      weather: z.strictObject({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) }).optional(),
    })
    .prefault({}),
  /**
   * .ics files (an export, or a copy a sync tool keeps) whose events the briefing and calendar alerts read besides
   * the Mac's own calendars. Absolute paths; their events count as other people's words.
   */
  icsCalendars: z.array(z.string().startsWith('/', 'must be an absolute path, e.g. "/Users/me/Calendars/work.ics"')).max(20).default([]),
  /** A job whose runs fail this many times in a row is paused and the owner told. */
  pauseAfterFailures: z.int().min(1).max(20).default(3),
});

/** A path the owner writes in config: absolute or under the home (`~/…`); a relative one would mean a folder nobody chose. */
function homeOrAbsolutePath(example: string) {
  return z
    .string()
    .min(1)
    .refine((path) => path.startsWith('/') || path === '~' || path.startsWith('~/'), `must be an absolute path or start with "~/", e.g. "${example}"`);
}

/**
 * One MCP server over stdio, started in the same sandbox as a skill with only what is granted here: files (read or
 * write) and programs it may run. It never gets network. `command` is an absolute path, or `node` for the runtime
 * Pavise runs on.
 */
export const McpServerConfigSchema = z.strictObject({
  // A bare name would be looked up on a PATH the box does not have; a relative path, against a folder nobody chose.
  command: z
    .string()
    .min(1)
    .refine((command) => command === 'node' || command.startsWith('/'), 'must be an absolute path to the program, e.g. "/opt/homebrew/bin/mcp-server-git", or "node"'),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  permissions: z
    .strictObject({
      files: z.array(z.strictObject({ path: homeOrAbsolutePath('~/Notes'), access: z.enum(['read', 'write']) })).default([]),
      binaries: z.array(z.string().startsWith('/')).default([]),
    })
    .prefault({}),
  enabled: z.boolean().default(true),
  /**
   * The owner's tightening of a tool, by the server's own tool name: `ask` treats it as changing things and reaching
   * out whatever its annotations say (so the gate asks), `deny` leaves it out. Nothing can be loosened.
   */
  tools: z.record(z.string().min(1).max(128), z.enum(['ask', 'deny'])).default({}),
});

export const McpConfigSchema = z.strictObject({
  servers: z.record(z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lower-case letters, digits and hyphens'), McpServerConfigSchema).default({}),
});

/** A folder the owner lets Pavise's file tools (and, later, terminal commands) use; nothing outside one, ever. */
export const FolderGrantSchema = z.strictObject({
  path: homeOrAbsolutePath('~/Documents/Pavise'),
  access: z.enum(['read', 'read-write']).default('read'),
});

export const FilesConfigSchema = z.strictObject({
  folders: z.array(FolderGrantSchema).max(50).default([]),
});

/** The commands that may run without asking, inside granted folders, when their argv is read-only (see main/tools/terminal). */
export const READ_ONLY_COMMANDS = ['ls', 'cat', 'head', 'wc', 'grep', 'find', 'git'] as const;

export const TerminalConfigSchema = z.strictObject({
  /** The owner may only shorten this list: a name not in READ_ONLY_COMMANDS is refused. */
  readOnlyCommands: z.array(z.enum(READ_ONLY_COMMANDS)).max(READ_ONLY_COMMANDS.length).default([...READ_ONLY_COMMANDS]),
});

export const WebConfigSchema = z.strictObject({
  /** Hosts web_fetch may reach over plain http (anyone on the way can read and change it); everything else is https. */
  httpHosts: z.array(z.string().min(1).max(253).regex(/^[a-z0-9.-]+$/i, 'must be a host name such as "intranet.example"')).max(50).default([]),
});

/** How a mail connection is protected: TLS from the start, upgraded with STARTTLS, or none (this machine only). */
const MailServerSchema = (defaultPort: number, defaultTls: 'implicit' | 'starttls') =>
  z
    .strictObject({
      host: z.string().min(1).max(253),
      port: z.int().min(1).max(65_535).default(defaultPort),
      tls: z.enum(['implicit', 'starttls', 'none']).default(defaultTls),
    })
    .refine((server) => server.tls !== 'none' || isLoopbackHost(server.host), {
      message: 'tls "none" sends the password and your mail in the clear; it is allowed only for a server on this machine (localhost, 127.0.0.1, ::1)',
      path: ['tls'],
    });

/** One IMAP/SMTP account; its password (or app password) is the Keychain secret `mail-<id>`, never in this file. */
export const MailAccountSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be a short lower-case name such as "personal" (its password is the secret mail-<id>)'),
  address: z.email(),
  name: z.string().min(1).max(100).optional(),
  /** The login name; defaults to the address. */
  user: z.string().min(1).max(320).optional(),
  imap: MailServerSchema(993, 'implicit'),
  smtp: MailServerSchema(465, 'implicit'),
});

export const MailConfigSchema = z.strictObject({
  accounts: z.array(MailAccountSchema).max(10).default([]),
});

/** http is allowed for Home Assistant on this machine or the home network (.local names, private IPv4); else https. */
function homeNetworkUrl() {
  return z.url({ protocol: /^https?$/ }).superRefine((value, ctx) => {
    const plain = /^http:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(value);
    const host = plain?.[1]?.toLowerCase();
    if (host === undefined) return;
    const privateV4 = /^(10\.\d+|192\.168|172\.(1[6-9]|2\d|3[01]))\.\d+\.\d+$/.test(host);
    if (!isLoopbackHost(host) && !host.endsWith('.local') && !privateV4) {
      ctx.addIssue({ code: 'custom', input: value, message: `plain http to ${host} outside your home network; use https (e.g. "https://${host}:8123")` });
    }
  });
}

export const HomeConfigSchema = z.strictObject({
  /** Home Assistant: its address; the long-lived access token is the Keychain secret `home-assistant`. */
  assistant: z.strictObject({ url: homeNetworkUrl() }).optional(),
  /** macOS Shortcuts Pavise may run (by exact name), e.g. HomeKit scenes; nothing else runs. */
  shortcuts: z.array(z.string().min(1).max(200)).max(50).default([]),
});

export const ConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  owner: OwnerConfigSchema.prefault({}),
  model: ModelConfigSchema.prefault({}),
  limits: LimitsConfigSchema.prefault({}),
  permissions: PermissionsConfigSchema.prefault({}),
  approvals: ApprovalsConfigSchema.prefault({}),
  channels: ChannelsConfigSchema.prefault({}),
  schedule: ScheduleConfigSchema.prefault({}),
  mcp: McpConfigSchema.prefault({}),
  files: FilesConfigSchema.prefault({}),
  terminal: TerminalConfigSchema.prefault({}),
  web: WebConfigSchema.prefault({}),
  mail: MailConfigSchema.prefault({}),
  home: HomeConfigSchema.prefault({}),
  memory: MemoryConfigSchema.prefault({}),
});

export type Config = z.output<typeof ConfigSchema>;
export type ModelConfig = Config['model'];
export type ImessageConfig = z.output<typeof ImessageConfigSchema>;
export type TelegramConfig = z.output<typeof TelegramConfigSchema>;
export type ScheduleConfig = z.output<typeof ScheduleConfigSchema>;
export type McpServerConfig = z.output<typeof McpServerConfigSchema>;
export type FolderGrant = z.output<typeof FolderGrantSchema>;
export type MailAccount = z.output<typeof MailAccountSchema>;
