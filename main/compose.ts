import { chmodSync, mkdirSync } from 'node:fs';
import { nativeCalendarStore, NativeContacts } from './calendar/native/calendar-store.js';
import { NativeCalendar, type NativeCalendarOptions } from './calendar/native/helper-client.js';
import type { ApprovalView } from './common/approvals.js';
import type { Config } from './common/config-schema.js';
import { Emitter } from './common/emitter.js';
import { ConfigError, loadConfig, notAFolder } from './config/config.js';
import { defaultPaviseHome, homePaths, paviseHome, type HomePaths } from './config/paths.js';
import { ownerRegion } from './identity/handles.js';
import { PairingCodes } from './identity/pairing.js';
import { createProvider } from './llm/create-provider.js';
import type { Provider } from './llm/provider.js';
import { defaultContextTokens } from './memory/budget.js';
import { createMemory, type Memory } from './memory/memory.js';
import { MemoryRecall } from './memory/recall.js';
import { ACTIVITY_KEY_NAME, ActivityLog } from './permissions/activity-log.js';
import { type ApprovalOutcome, PermissionGate } from './permissions/gate.js';
import { Pacer } from './permissions/pacing.js';
import { PauseWatch, setPaused } from './permissions/pause.js';
import { effectTarget } from './permissions/policy.js';
import { SecretBroker, secretHandlePattern } from './permissions/secret-broker.js';
import { metered, priceOf, worstCaseUsd } from './permissions/spend.js';
import { buildSystemPrompt, ensureSoul } from './persona/soul.js';
import { createApiKeyLookup } from './runtime/api-keys.js';
import { createMessaging, knownRecipient } from './runtime/messaging.js';
import { embeddingsRanker } from './runtime/memory-embeddings.js';
import { createSpendMeter, type SpendMeter } from './runtime/spend-meter.js';
import { TurnRunner } from './runtime/turn-runner.js';
import { calendarSource } from './scheduler/calendar-source.js';
import { createScheduler } from './scheduler/service.js';
import { createScheduling, ownerTimeZone, type Scheduling } from './scheduler/scheduling.js';
import { NO_CALENDAR, type ScheduleSources } from './scheduler/sources.js';
import { skillWeather } from './scheduler/weather-source.js';
import { isCoreSecret } from './secrets/core-secrets.js';
import { KeychainSecretStore, keychainServiceFor } from './secrets/keychain-secret-store.js';
import { keyringIsEphemeral, type SecretStore } from './secrets/secret-store.js';
import type { ApprovalStore } from './storage/approval-store.js';
import type { ChannelStore } from './storage/channel-store.js';
import type { JobRun, JobStore } from './storage/job-store.js';
import type { MemoriesStore } from './storage/memories-store.js';
import type { MemoryStore } from './storage/memory-store.js';
import type { NotesStore } from './storage/notes-store.js';
import type { Outbox } from './storage/outbox.js';
import type { SessionStore } from './storage/session-store.js';
import { openStorage, type Storage } from './storage/storage.js';
import type { Switches } from './storage/switches.js';
import { InstalledSkills, type SkillActivity } from './skills/installed-skills.js';
import { fetchTransport, type SecretFiller, type Transport } from './skills/network-broker.js';
import { loadSkillHost } from './skills/skill-sources.js';
import { createToolRegistry } from './tools/builtin.js';
import { fileToolDeps } from './tools/files/setup.js';
import { CommandResolver } from './tools/terminal/command-resolution.js';
import { WebFetcher, type WebTransport } from './tools/web/web-fetcher.js';
import { MailService } from './tools/mail/mail-service.js';
import { HomeAssistantClient } from './tools/home/home-assistant.js';
import type { ToolRegistry } from './tools/registry.js';
import type { ToolSource } from './tools/source.js';

export interface ComposeOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  /** Tests and the Electron shell may supply their own; the default is the Keychain / Secret Service. */
  readonly secrets?: SecretStore;
  readonly provider?: Provider;
  /** Extra tool sources (tests of the gate); registered after the built-in one, through the same descriptor checks. */
  readonly extraSources?: readonly ToolSource[];
  /** How often a waiting approval re-reads the database (decisions from another process). */
  readonly approvalPollMs?: number;
  /**
   * Load the model SDK at the first model call instead of in the background at start-up. The gateway may not call
   * a model for hours, and loading the SDK at start-up only delays its channels' connecting.
   */
  readonly loadProviderAtFirstCall?: boolean;
  /**
   * The Mac's calendars and contacts: how to reach the helper (tests: a fake osascript over a fake store). `false`
   * leaves those tools out (tests whose stand-in tools take their names).
   */
  readonly calendar?: NativeCalendarOptions | false;
  /** The clock reminders and alerts are set against (tests move a fake one with the scheduler's). */
  readonly scheduleNow?: () => number;
  /** How skills' brokered requests leave (tests reach a fake server on loopback); the default is fetch. */
  readonly skillTransport?: Transport;
  /**
   * Tests only: how web_fetch reaches their loopback server (its names, its certificate). The CLI, the gateway and
   * the app never pass one, so production always uses the system resolver and the public-address check.
   */
  readonly webTransport?: WebTransport;
}

/** What the core tells whoever listens: a new pending approval, its end, and something the owner must know now. */
export type CoreEvents = {
  readonly approval: [approval: ApprovalView];
  readonly approvalSettled: [approval: ApprovalView, outcome: ApprovalOutcome];
  readonly alert: [message: string];
};

/** Everything one home's core is made of. Consumers take the narrow parts they use, never this whole bundle. */
export interface Core {
  readonly paths: HomePaths;
  readonly config: Config;
  readonly env: NodeJS.ProcessEnv;
  readonly secrets: SecretStore;
  readonly broker: SecretBroker;
  readonly activity: ActivityLog;
  readonly sessions: SessionStore;
  readonly notes: NotesStore;
  /** Long-term memories (the owner's view: list, show, forget, export) and the context budget. */
  readonly longTermMemory: Memory;
  readonly memoriesStore: MemoriesStore;
  readonly approvals: ApprovalStore;
  readonly switches: Switches;
  readonly pacer: Pacer;
  readonly channels: ChannelStore;
  readonly outbox: Outbox;
  readonly jobs: JobStore;
  /** Creates and changes reminders, alerts and briefings (the scheduler that fires them runs in the gateway). */
  readonly scheduling: Scheduling;
  /** The calendar and weather the briefing and alerts read (the scheduler runs in the gateway and the app alike). */
  readonly scheduleSources: ScheduleSources;
  /** Everything remembered, and recall over it. */
  readonly memory: MemoryStore;
  readonly recall: MemoryRecall;
  readonly pairing: PairingCodes;
  readonly gate: PermissionGate;
  /** Every tool; `contactTools` are those without effects. */
  readonly tools: ToolRegistry;
  readonly contactTools: ToolRegistry;
  /** Installed skills: review, pin, drift, enable, remove. */
  readonly skills: InstalledSkills;
  readonly runner: TurnRunner;
  readonly events: Emitter<CoreEvents>;
  readonly spentTodayUsd: SpendMeter;
  readonly transaction: Storage['transaction'];
  /** The pause switch (permissions/pause.ts). */
  /** Whether anything changed (pausing twice keeps the first pause's who and when). */
  setPaused(paused: boolean, actor: string): boolean;
  /** Runs a scheduled job once now, whatever its schedule (`pavise schedule run`, the Schedules pane's "Run now"). */
  runScheduledNow(id: number): Promise<JobRun | undefined>;
  close(): void;
}

/**
 * Builds one home's core: the stores, the gate, the tools and the turn runner, wired together. The CLI, the
 * headless gateway and the Electron shell all start here; nothing here decides anything.
 */
export async function compose(options: ComposeOptions = {}): Promise<Core> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const home = paviseHome(env, platform);
  const paths = homePaths(home);
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new ConfigError(notAFolder(home));
    throw error;
  }
  chmodSync(home, 0o700);
  const config = loadConfig(paths.config);
  ensureSoul(paths.soul);
  const secrets = options.secrets ?? new KeychainSecretStore(keychainServiceFor(home, defaultPaviseHome(env, platform)));
  const storage = openStorage(paths.database, { grantTargetOf: effectTarget });
  // Start loading the provider's SDK now, so it overlaps the Keychain round-trips below (unless it waits for its first call).
  const provider = options.provider ?? (options.loadProviderAtFirstCall ? undefined : createProvider(config.model));
  try {
    const broker = new SecretBroker(secrets);
    const extra = { 'env:ANTHROPIC_API_KEY': env.ANTHROPIC_API_KEY, 'env:OPENAI_API_KEY': env.OPENAI_API_KEY };
    // The Keychain reads run together; only on the very first start, when the log's key has just been created, is
    // the broker loaded again so that it scrubs that key too.
    const newKeyWhenLost = keyringIsEphemeral(env, platform);
    const [activity] = await Promise.all([ActivityLog.open(storage.activityRows, secrets, { newKeyWhenLost }), broker.load(extra)]);
    if (!broker.names().includes(ACTIVITY_KEY_NAME)) await broker.load(extra);
    return await wire({ paths, config, env, secrets, storage, provider, activity, broker, options });
  } catch (error) {
    storage.close();
    throw error;
  }
}

async function wire(parts: {
  paths: HomePaths;
  config: Config;
  env: NodeJS.ProcessEnv;
  secrets: SecretStore;
  storage: Storage;
  provider: Provider | undefined;
  activity: ActivityLog;
  broker: SecretBroker;
  options: ComposeOptions;
}): Promise<Core> {
  const { paths, config, env, secrets, storage, provider, activity, broker, options } = parts;
  const events = new Emitter<CoreEvents>();
  const pacer = new Pacer(storage.sentMessages, config.limits.pacing);
  const messaging = createMessaging({ config, channels: storage.channels, outbox: storage.outbox, remembered: (channel, guid) => storage.memory.byGuid(channel, guid) });
  const vectors = await embeddingsRanker(config, storage.memory, () => secrets, storage.switches);
  const recall = new MemoryRecall({ store: storage.memory, ownerName: config.owner.name, vectors });
  const skillActivity: SkillActivity = {
    record: ({ skill, summary, decision, detail }) =>
      activity.append({ kind: 'system', summary: broker.redact(summary), actor: `skill:${skill}`, ...(decision ? { decision } : {}), ...(detail ? { detail: broker.redactValue(detail) } : {}) }),
  };
  // The embeddings endpoint's key is Pavise's own too, under whatever name config.json gives it.
  const embeddingsKey = config.memory.embeddings?.keyName;
  const skills = new InstalledSkills(storage.skills, paths.skills, skillActivity, (name) => isCoreSecret(name) || name === embeddingsKey);
  const skillSecrets: SecretFiller = {
    handleNames: (text) => [...text.matchAll(secretHandlePattern())].map((match) => match[1] ?? ''),
    substitute: (text) => broker.substitute(text),
    redact: (text) => broker.redact(text),
  };
  const skillHost = await loadSkillHost({
    installed: skills,
    secrets: skillSecrets,
    transport: options.skillTransport ?? fetchTransport,
    activity: skillActivity,
    protectedDirs: [paths.home],
    mcpServers: config.mcp.servers,
  });
  const scheduling = createScheduling({ config, home: paths.home, jobs: storage.jobs, channels: storage.channels, ...(options.scheduleNow ? { now: options.scheduleNow } : {}) });
  // No folder granted, no file tools: the model is not offered tools that could only refuse.
  const files =
    config.files.folders.length > 0
      ? fileToolDeps({ folders: config.files.folders, ownerFilesPath: paths.ownerFiles, env, platform: options.platform ?? process.platform })
      : undefined;
  const web = { fetcher: new WebFetcher(options.webTransport), httpHosts: config.web.httpHosts };
  const browser = { fetcher: web.fetcher, httpHosts: web.httpHosts, profileDir: paths.browserProfile, screenshotDir: paths.browserScreenshots };
  const terminal = files
    ? { resolver: new CommandResolver(config.files.folders, files.grants.homeDir, config.terminal.readOnlyCommands), platform: options.platform ?? process.platform }
    : undefined;
  const mail = config.mail.accounts.length > 0 ? new MailService(config.mail.accounts, secrets) : undefined;
  const platform = options.platform ?? process.platform;
  const assistant = config.home.assistant ? new HomeAssistantClient(config.home.assistant.url, secrets) : undefined;
  const home = { ...(assistant ? { assistant } : {}), shortcuts: config.home.shortcuts, platform };
  // Every call is recorded with what it cost even when the provider did not say (see billedUsage).
  let loadedProvider = provider && metered(provider);
  const loadProvider = (): Provider => (loadedProvider ??= metered(createProvider(config.model)));
  const apiKey = createApiKeyLookup({ secrets, env, remember: (name, value) => broker.remember(name, value) });
  // Stops running model and tool calls when Pavise is paused, here or by another process.
  const pause = new PauseWatch(storage.switches);
  // Memory's own model calls (extraction at compaction) pass the gate's pause switch, spend cap and labelling.
  const longTermMemory = createMemory({
    store: storage.memories,
    transaction: (work) => storage.transaction(work),
    sessionLabel: (sessionId) => storage.notes.sessionLabel(sessionId),
    model: {
      provider: loadProvider,
      model: config.model.name,
      apiKey,
      beforeModelCall: (request) => gate.beforeModelCall(request),
      afterModelCall: (request) => gate.afterModelCall(request),
      prepareForModel: (messages) => gate.transformContext(messages),
      watchPause: () => pause.watch(),
    },
    contextTokens: config.memory.contextTokens ?? defaultContextTokens(config.model),
    recall: turnRecall(storage, config),
    search: (query, limit) => recall.search(query, { limit }),
    onProblem: (message, sessionId) => activity.append({ kind: 'system', summary: message, sessionId, actor: 'pavise', decision: 'failed' }),
    redact: (text) => broker.redact(text),
  });
  const native = options.calendar === false ? undefined : new NativeCalendar({ platform, ...options.calendar });
  const tools = await createToolRegistry(
    { notes: storage.notes, messaging, recall, memory: longTermMemory.tools, scheduling, web, home, ...(files ? { files } : {}), ...(terminal ? { terminal } : {}), browser, ...(mail ? { mail, mailMemory: storage.memory } : {}), ...nativeParts(config, native) },
    [...skillHost.sources, ...(options.extraSources ?? [])],
  );
  tools.defer(skillHost.mcp, (message) => skillActivity.record({ skill: 'mcp', summary: message, decision: 'skipped' }));
  const spentTodayUsd = createSpendMeter(storage.sessions, config.model);
  const gate = new PermissionGate({
    tools,
    approvals: storage.approvals,
    activity,
    pacer,
    switches: storage.switches,
    broker,
    policy: { alwaysAsk: config.permissions.alwaysAsk, deny: config.permissions.deny },
    approvalTtlMs: config.permissions.approvalTimeoutMinutes * 60_000,
    dailySpendCapUsd: config.limits.dailySpendUsd,
    spentTodayUsd: () => spentTodayUsd(),
    worstCaseUsd: (request) => worstCaseUsd(priceOf(config.model.provider, config.model.name, config.model.baseURL), request),
    spendHolds: storage.spendHolds,
    isKnownRecipient: knownRecipient(config, storage.channels),
    onApprovalRequested: (approval) => events.emit('approval', approval),
    onApprovalSettled: (approval, outcome) => events.emit('approvalSettled', approval, outcome),
    onAlert: (message) => events.emit('alert', message),
    ...(options.approvalPollMs ? { pollMs: options.approvalPollMs } : {}),
  });
  // What the briefing and calendar alerts read: the same calendar the tools use, the owner's .ics files, the weather skill.
  const scheduleSources: ScheduleSources = {
    calendar: calendarSource({ ...(native ? { native } : {}), icsFiles: config.schedule.icsCalendars, ownerTimeZone: ownerTimeZone(config) }) ?? NO_CALENDAR,
    weather: skillWeather({ gate, tools, sessions: storage.sessions, skills }, config.schedule.briefing.weather),
  };
  const runner = new TurnRunner({
    provider: loadProvider,
    model: { name: config.model.name, maxOutputTokens: config.model.maxOutputTokens },
    apiKey,
    sessions: storage.sessions,
    gate,
    broker,
    systemPrompt: () => buildSystemPrompt(paths.soul),
    limits: { maxSteps: config.limits.maxStepsPerTurn, maxTokens: config.limits.maxTokensPerTurn },
    memory: longTermMemory,
    pause,
    ledger: storage.memories,
  });
  const core: Core = {
    paths,
    config,
    env,
    secrets,
    broker,
    activity,
    sessions: storage.sessions,
    notes: storage.notes,
    longTermMemory,
    memoriesStore: storage.memories,
    approvals: storage.approvals,
    switches: storage.switches,
    pacer,
    channels: storage.channels,
    outbox: storage.outbox,
    jobs: storage.jobs,
    scheduling,
    scheduleSources,
    memory: storage.memory,
    recall,
    pairing: new PairingCodes(storage.pairingDatabase),
    gate,
    tools,
    contactTools: tools.effectFree(),
    skills,
    runner,
    events,
    spentTodayUsd,
    transaction: (work) => storage.transaction(work),
    setPaused: (paused, actor) => setPaused({ switches: storage.switches, activity }, paused, actor),
    // A scheduler of its own for one run, as in another process: the running one finishes the run when it is delivered.
    runScheduledNow: (id) => createScheduler(core).runNow(id),
    close: () => {
      skillHost.close();
      storage.close();
    },
  };
  return core;
}

/**
 * The calendar and contacts the tools use: the native helper. Where it cannot run (off a Mac) the seven tools are not
 * offered at all: each could only answer that it needs a Mac, at a fixed cost in every turn's prompt.
 */
function nativeParts(config: Config, native: NativeCalendar | undefined) {
  if (!native?.available) return {};
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const ownAddresses = [...config.owner.emails, ...config.channels.imessage.owners.filter((handle) => handle.includes('@'))];
  return { calendar: nativeCalendarStore(native, timeZone), contacts: new NativeContacts(native, ownerRegion(config)), ownAddresses };
}

/**
 * Recall for the memory preamble of each turn: text ranking only, and no date parsing (the parser's library would
 * load before the first model call of every process); the recall tool and `pavise memory search` do both.
 */
function turnRecall(storage: Storage, config: Config) {
  const recall = new MemoryRecall({ store: storage.memory, ownerName: config.owner.name, parseDate: () => undefined });
  return async (query: string, limit: number) => (await recall.search(query, { limit })).hits;
}
