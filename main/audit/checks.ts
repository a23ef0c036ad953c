import { execFile } from 'node:child_process';
import { existsSync, type Stats } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { PacingConfigSchema, PROVIDER_IDS, type Config } from '../common/config-schema.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { findKeyShapedFields, keyShapeOf } from '../config/key-shapes.js';
import { paviseHome, defaultPaviseHome, homePaths, type HomePaths } from '../config/paths.js';
import type { ProviderId } from '../llm/provider.js';
import { openDatabase, type Database } from '../storage/database.js';
import { ACTIVITY_KEY_NAME, ActivityLog } from '../permissions/activity-log.js';
import { ActivityRows } from '../storage/activity-rows.js';
import { Switches } from '../storage/switches.js';
import { findListeningSockets, type ListeningSocket } from '../platform/listening-sockets.js';
import { providerKeyFromEnv, providerKeyVariable } from '../secrets/env-fallback.js';
import { KeychainSecretStore, keychainServiceFor } from '../secrets/keychain-secret-store.js';
import type { SecretStore } from '../secrets/secret-store.js';

/**
 * `pavise audit`: the security self-check. Every check reads, never writes: the database is opened read-only, the
 * SecretStore is only listed and read, and nothing is created in a home that does not exist yet. A check that fails
 * to run reports its own failure instead of throwing, so a broken home still gets a full report. No message or fix
 * ever contains a secret's value: findings name the place (field, table and row, file and line) and the kind.
 */

export type AuditSeverity = 'ok' | 'info' | 'warn' | 'critical';

export interface AuditCheck {
  /** Stable kebab-case id; one check may report several findings under the same id. */
  readonly id: string;
  readonly severity: AuditSeverity;
  readonly message: string;
  /** What to do; empty when there is nothing to do. */
  readonly fix: string;
}

export interface AuditReport {
  readonly checks: AuditCheck[];
}

export interface AuditOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly platform: NodeJS.Platform;
  /** Scan every row and whole log files, and also inspect the audit's own process tree for listeners. */
  readonly deep: boolean;
  /** Defaults to the Keychain / Secret Service entry for the home, as `createServices` uses. */
  readonly secrets?: SecretStore;
  readonly now?: number;
}

type Finding = Omit<AuditCheck, 'id'>;
type Check = (audit: Audit) => Promise<Finding | Finding[]>;

/** Rows per table scanned for secrets without --deep: the most recent ones. */
export const RECENT_ROWS = 2000;
/** Without --deep, only the tail of a large log file is read. */
const LOG_TAIL_BYTES = 4 * 1024 * 1024;
/** Findings of one kind beyond this are summarized in one extra line. */
const MAX_FINDINGS = 20;
/** Stored values shorter than this are not compared: they would match ordinary text. */
const MIN_SECRET_LENGTH = 8;
const SPEND_WARN_USD = 50;
const SCANNED_TABLES = ['messages', 'tool_calls', 'notes', 'activity', 'approvals'] as const;
const FULL_DISK_ACCESS_LINK = 'x-apple.systempreferences:com.apple.preference.security?Privacy_AllFiles';

const CHECKS: readonly (readonly [id: string, check: Check])[] = [
  ['no-listening-sockets', checkListeningSockets],
  ['home-permissions', checkHomePermissions],
  ['database-permissions', checkDatabasePermissions],
  ['config-permissions', checkConfigPermissions],
  ['config-valid', checkConfigValid],
  ['config-no-secrets', checkConfigNoSecrets],
  ['secret-store', checkSecretStore],
  ['provider-key', checkProviderKey],
  ['database-no-secrets', checkDatabaseNoSecrets],
  ['logs-no-secrets', checkLogsNoSecrets],
  ['activity-log', checkActivityLog],
  ['owner-identities', checkOwnerIdentities],
  ['unknown-sender-policy', checkUnknownSenderPolicy],
  ['limits-sane', checkLimits],
  ['paused', checkPaused],
  ['circuit-breaker', checkCircuitBreaker],
  ['skills-pinned', checkSkills],
  ['macos-permissions', checkMacosPermissions],
];

export async function runAudit(options: AuditOptions): Promise<AuditReport> {
  const audit = new Audit(options);
  const checks: AuditCheck[] = [];
  try {
    for (const [id, check] of CHECKS) {
      let findings: Finding[];
      try {
        const result = await check(audit);
        findings = Array.isArray(result) ? result : [result];
      } catch (error) {
        findings = [
          {
            severity: 'warn',
            message: `This check could not run: ${errorSentence(error)}`,
            fix: 'Run `pavise audit` again; if it keeps failing, run it with PAVISE_DEBUG=1 and report the output.',
          },
        ];
      }
      for (const finding of findings) checks.push({ id, ...finding });
    }
  } finally {
    audit.close();
  }
  // Belt and braces: whatever a check echoed (an error message, a path), no known secret value leaves the audit.
  const needles = await audit.allNeedles();
  return {
    checks: checks.map((check) => ({ ...check, message: redactValues(check.message, needles), fix: redactValues(check.fix, needles) })),
  };
}

// ---- shared state ---------------------------------------------------------------------------------------------------

interface KnownSecret {
  /** How a finding names it: `the stored secret "anthropic"`, `the value of ANTHROPIC_API_KEY`. */
  readonly label: string;
  readonly value: string;
  /** The value as is and as it appears inside a JSON string. */
  readonly needles: readonly string[];
}

type SecretsState =
  | { readonly ok: true; readonly names: readonly string[]; readonly values: ReadonlyMap<string, string>; readonly unreadable: readonly string[] }
  | { readonly ok: false; readonly error: string };

type DatabaseState = { readonly kind: 'missing' } | { readonly kind: 'open'; readonly db: Database } | { readonly kind: 'error'; readonly message: string };

interface RawConfig {
  readonly exists: boolean;
  readonly text?: string;
  readonly json?: unknown;
  readonly readError?: string;
  readonly jsonError?: string;
}

/** What the checks share, each piece computed once on first use. */
class Audit {
  readonly env: NodeJS.ProcessEnv;
  readonly platform: NodeJS.Platform;
  readonly deep: boolean;
  readonly now: number;
  readonly paths: HomePaths;
  readonly store: SecretStore;
  #secrets: Promise<SecretsState> | undefined;
  #database: DatabaseState | undefined;
  #rawConfig: Promise<RawConfig> | undefined;
  #config: { readonly config?: Config; readonly error?: unknown } | undefined;

  constructor(options: AuditOptions) {
    this.env = options.env;
    this.platform = options.platform;
    this.deep = options.deep;
    this.now = options.now ?? Date.now();
    const home = paviseHome(options.env, options.platform);
    this.paths = homePaths(home);
    this.store = options.secrets ?? new KeychainSecretStore(keychainServiceFor(home, defaultPaviseHome(options.env, options.platform)));
  }

  /** Names and values in the SecretStore. After one failure the store is not asked again (no repeated unlock prompts). */
  secrets(): Promise<SecretsState> {
    this.#secrets ??= (async (): Promise<SecretsState> => {
      let names: string[];
      try {
        names = await this.store.list();
      } catch (error) {
        return { ok: false, error: errorSentence(error) };
      }
      const values = new Map<string, string>();
      const unreadable: string[] = [];
      for (const name of names) {
        try {
          const value = await this.store.get(name);
          if (value !== undefined) values.set(name, value);
        } catch {
          unreadable.push(name);
        }
      }
      return { ok: true, names, values, unreadable };
    })();
    return this.#secrets;
  }

  /** Stored values and provider keys from the environment, for substring comparison. */
  async knownSecrets(): Promise<KnownSecret[]> {
    const state = await this.secrets();
    const candidates: { label: string; value: string }[] = [];
    if (state.ok) for (const [name, value] of state.values) candidates.push({ label: `the stored secret "${name}"`, value });
    for (const variable of ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY']) {
      const value = this.env[variable]?.trim();
      if (value) candidates.push({ label: `the value of ${variable}`, value });
    }
    const seen = new Set<string>();
    const known: KnownSecret[] = [];
    for (const { label, value } of candidates) {
      if (value.length < MIN_SECRET_LENGTH || seen.has(value)) continue;
      seen.add(value);
      const escaped = JSON.stringify(value).slice(1, -1);
      known.push({ label, value, needles: escaped === value ? [value] : [value, escaped] });
    }
    return known;
  }

  async allNeedles(): Promise<string[]> {
    // Only what was already fetched: the final redaction must not be the first thing to touch the Keychain.
    if (this.#secrets === undefined) {
      return ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY'].flatMap((name) => {
        const value = this.env[name]?.trim();
        return value && value.length >= MIN_SECRET_LENGTH ? [value] : [];
      });
    }
    return (await this.knownSecrets()).flatMap((secret) => secret.needles);
  }

  /** The database opened read-only (never created, migrated or chmodded), or why not. */
  database(): DatabaseState {
    if (this.#database) return this.#database;
    if (!existsSync(this.paths.database)) {
      this.#database = { kind: 'missing' };
    } else {
      try {
        this.#database = { kind: 'open', db: openDatabase(this.paths.database, { readonly: true }) };
      } catch (error) {
        this.#database = { kind: 'error', message: errorSentence(error) };
      }
    }
    return this.#database;
  }

  rawConfig(): Promise<RawConfig> {
    this.#rawConfig ??= (async (): Promise<RawConfig> => {
      let text: string;
      try {
        text = await readFile(this.paths.config, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        return code === 'ENOENT' ? { exists: false } : { exists: true, readError: code ?? errorSentence(error) };
      }
      try {
        return { exists: true, text, json: JSON.parse(text) as unknown };
      } catch (error) {
        return { exists: true, text, jsonError: errorSentence(error) };
      }
    })();
    return this.#rawConfig;
  }

  config(): { readonly config?: Config; readonly error?: unknown } {
    if (!this.#config) {
      try {
        this.#config = { config: loadConfig(this.paths.config) };
      } catch (error) {
        this.#config = { error };
      }
    }
    return this.#config;
  }

  close(): void {
    if (this.#database?.kind === 'open') this.#database.db.close();
  }
}

// ---- no-listening-sockets ---------------------------------------------------------------------------------------------

async function checkListeningSockets(audit: Audit): Promise<Finding> {
  const processes = await findPaviseProcesses(audit.platform);
  if (processes === undefined) {
    return { severity: 'info', message: `Cannot list running processes on ${audit.platform}; no running Pavise was inspected.`, fix: '' };
  }
  const roots = processes.map((found) => found.pid);
  if (audit.deep) roots.push(process.pid);
  const listeners = new Map<string, ListeningSocket>();
  const uninspectable: number[] = [];
  for (const pid of roots) {
    try {
      for (const socket of await findListeningSockets(pid)) listeners.set(`${socket.pid}/${socket.inode}/${socket.protocol}/${socket.localAddress}`, socket);
    } catch {
      uninspectable.push(pid);
    }
  }
  if (listeners.size > 0) {
    const list = [...listeners.values()].map((socket) => `pid ${socket.pid} listens on ${socket.protocol} ${socket.localAddress || '(unnamed)'}`);
    return {
      severity: 'critical',
      message: `A Pavise process tree has a listening socket: ${list.join('; ')}. Pavise never listens; anything that does can be reached by others.`,
      fix: `Stop the process (kill ${[...new Set([...listeners.values()].map((socket) => socket.pid))].join(' ')}), remove whatever started the listener (a skill, a plugin, a modified build), and report it.`,
    };
  }
  const unchecked = uninspectable.length > 0 ? ` (could not inspect pid ${uninspectable.join(', ')})` : '';
  if (processes.length === 0) {
    if (audit.deep) {
      return {
        severity: 'ok',
        message: `No running Pavise to inspect; the audit's own process tree (pid ${process.pid}) has no listening socket${unchecked}.`,
        fix: '',
      };
    }
    return { severity: 'info', message: 'No running Pavise to inspect (start it and run the audit again to check for listening sockets).', fix: '' };
  }
  const pids = processes.map((found) => found.pid).join(', ');
  return {
    severity: uninspectable.length === roots.length ? 'info' : 'ok',
    message: `No listening socket in ${processes.length} running Pavise process tree${processes.length === 1 ? '' : 's'} (pid ${pids})${audit.deep ? ' or the audit itself' : ''}${unchecked}.`,
    fix: '',
  };
}

interface PaviseProcess {
  readonly pid: number;
}

const PAVISE_SCRIPT = /(?:^|\/)(?:bin\/pavise(?:\.js)?|dist\/cli\/main\.js|dist\/electron\/main\.js)$/;

/** Running Pavise processes other than this one; undefined when the platform offers no way to look. */
async function findPaviseProcesses(platform: NodeJS.Platform): Promise<PaviseProcess[] | undefined> {
  if (platform === 'linux') {
    const found: PaviseProcess[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      const argv = cmdline.split('\0').filter((arg) => arg.length > 0);
      if (isPaviseArgv(argv)) found.push({ pid: Number(entry) });
    }
    return found;
  }
  if (platform === 'darwin') {
    const { stdout } = await promisify(execFile)('ps', ['-A', '-o', 'pid=,command='], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    const found: PaviseProcess[] = [];
    for (const line of stdout.split('\n')) {
      const match = /^\s*(\d+)\s+(.*)$/.exec(line);
      if (!match || Number(match[1]) === process.pid) continue;
      const command = match[2] ?? '';
      // ps joins argv with spaces, so paths are matched inside the line rather than argument by argument.
      if (/Pavise\.app\/Contents\//.test(command) || /(?:^|[\s/])(?:bin\/pavise(?:\.js)?|dist\/(?:cli|electron)\/main\.js)(?:\s|$)/.test(command)) {
        found.push({ pid: Number(match[1]) });
      }
    }
    return found;
  }
  return undefined;
}

/** A packaged app (`Pavise`, `…/Pavise.app/…`) or Node/Electron running the CLI or the app's bundle. */
export function isPaviseArgv(argv: readonly string[]): boolean {
  const [program, ...rest] = argv;
  if (program === undefined) return false;
  if (program.includes('Pavise.app/Contents/')) return true;
  const name = basename(program);
  if (name === 'Pavise' || name === 'pavise') return true;
  if (!/^(?:node|nodejs|electron)(?:\d+|\.exe)?$/i.test(name)) return false;
  const script = rest.find((arg) => !arg.startsWith('-'));
  return script !== undefined && PAVISE_SCRIPT.test(script);
}

// ---- file permissions -------------------------------------------------------------------------------------------------

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const octal = (mode: number): string => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

async function checkHomePermissions(audit: Audit): Promise<Finding> {
  const home = audit.paths.home;
  const info = await statOrUndefined(home);
  if (!info) {
    return { severity: 'info', message: `PAVISE_HOME ${home} does not exist yet; Pavise creates it private (0700) on first run.`, fix: '' };
  }
  if (!info.isDirectory()) {
    return {
      severity: 'critical',
      message: `PAVISE_HOME ${home} is not a folder.`,
      fix: `Move it aside (mv ${shellQuote(home)} ${shellQuote(`${home}.bak`)}) or point PAVISE_HOME at a folder.`,
    };
  }
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    return {
      severity: 'critical',
      message: `PAVISE_HOME ${home} belongs to user id ${info.uid}, not to you (${uid}); its owner can read and change everything in it.`,
      fix: `Use a home you own: set PAVISE_HOME to a folder of yours, or chown -R "$(id -u)" ${shellQuote(home)}.`,
    };
  }
  if ((info.mode & 0o077) !== 0) {
    return {
      severity: 'critical',
      message: `PAVISE_HOME ${home} is mode ${octal(info.mode)}: other users on this machine can open it (your conversations, notes and settings live there).`,
      fix: `chmod 700 ${shellQuote(home)}`,
    };
  }
  return { severity: 'ok', message: `PAVISE_HOME ${home} is private (${octal(info.mode)}).`, fix: '' };
}

async function checkDatabasePermissions(audit: Audit): Promise<Finding> {
  const database = audit.paths.database;
  const files = [database, `${database}-wal`, `${database}-shm`];
  const modes: { path: string; mode: number }[] = [];
  for (const path of files) {
    const info = await statOrUndefined(path);
    if (info) modes.push({ path, mode: info.mode });
  }
  if (!modes.some((file) => file.path === database)) {
    return { severity: 'info', message: `No database yet (${database}); Pavise creates it with mode 0600.`, fix: '' };
  }
  const open = modes.filter((file) => (file.mode & 0o077) !== 0);
  if (open.length > 0) {
    return {
      severity: 'critical',
      message: `The database is open to other users: ${open.map((file) => `${basename(file.path)} is ${octal(file.mode)}`).join(', ')} (it holds your conversations and notes).`,
      // The glob also covers a -wal/-shm that SQLite creates later with the database's mode.
      fix: `chmod 600 ${shellQuote(database)}*`,
    };
  }
  return { severity: 'ok', message: `The database files are private (${modes.map((file) => `${basename(file.path)} ${octal(file.mode)}`).join(', ')}).`, fix: '' };
}

async function checkConfigPermissions(audit: Audit): Promise<Finding> {
  const path = audit.paths.config;
  const info = await statOrUndefined(path);
  if (!info) return { severity: 'ok', message: 'No config.json (defaults in use), so nothing to protect.', fix: '' };
  const fix = `chmod 600 ${shellQuote(path)}`;
  if ((info.mode & 0o022) !== 0) {
    // Writable config can point model.baseURL at someone else's server, which would then receive the API key.
    // A private home keeps other users from reaching the file at all, which makes it a warning rather than critical.
    const home = await statOrUndefined(audit.paths.home);
    const homeOpen = home === undefined || (home.mode & 0o011) !== 0;
    return {
      severity: homeOpen ? 'critical' : 'warn',
      message: `config.json is mode ${octal(info.mode)}: other users could change it (for example point model.baseURL at their own server to receive your API key)${homeOpen ? '' : '; the private home folder keeps them out for now'}.`,
      fix,
    };
  }
  if ((info.mode & 0o044) !== 0) {
    return { severity: 'warn', message: `config.json is mode ${octal(info.mode)}: other users could read your settings if they can reach the folder.`, fix };
  }
  return { severity: 'ok', message: `config.json is private (${octal(info.mode)}).`, fix: '' };
}

// ---- config -------------------------------------------------------------------------------------------------------------

async function checkConfigValid(audit: Audit): Promise<Finding> {
  const raw = await audit.rawConfig();
  if (!raw.exists) return { severity: 'ok', message: 'No config.json; the defaults are in use.', fix: '' };
  const { config, error } = audit.config();
  if (config) {
    return { severity: 'ok', message: `config.json is valid (provider ${config.model.provider}, model ${config.model.name || '(none)'}).`, fix: '' };
  }
  if (!(error instanceof ConfigError)) throw error;
  const holdsSecret = raw.json !== undefined ? findKeyShapedFields(raw.json).length > 0 : raw.text !== undefined && linesWithKeyShapes(raw.text).length > 0;
  const message = redactKeyShapes(error.message, await audit.knownSecrets());
  return holdsSecret
    ? {
        severity: 'critical',
        message,
        fix: 'Remove the secret from config.json, then store it with `pavise secrets set NAME` (the value is read from stdin). Pavise will not start until config.json is valid.',
      }
    : { severity: 'warn', message, fix: 'Edit config.json as the message says (or delete it to use the defaults); Pavise will not start until it is valid.' };
}

async function checkConfigNoSecrets(audit: Audit): Promise<Finding[]> {
  const raw = await audit.rawConfig();
  if (!raw.exists) return [{ severity: 'ok', message: 'No config.json, so no secrets in it.', fix: '' }];
  if (raw.text === undefined) {
    return [{ severity: 'warn', message: `config.json could not be read (${raw.readError ?? 'error'}), so it was not checked for secrets.`, fix: `Check its permissions: ls -l ${shellQuote(audit.paths.config)}` }];
  }
  const findings: Finding[] = [];
  const removeFix = (where: string, kind: string) =>
    `Remove ${where} from config.json, then store the value in the Keychain with \`pavise secrets set ${secretNameFor(kind)}\` (it reads stdin). ` +
    'Treat the key as exposed: rotate it at its provider.';
  if (raw.json !== undefined) {
    for (const found of findKeyShapedFields(raw.json)) {
      findings.push({
        severity: 'critical',
        message: `config.json holds a secret at ${found.path} (${found.kind}); secrets belong in the Keychain only.`,
        fix: removeFix(found.path, found.kind),
      });
    }
  } else {
    for (const { line, kind } of linesWithKeyShapes(raw.text)) {
      findings.push({ severity: 'critical', message: `config.json line ${line} holds a string shaped like ${withArticle(kind)}.`, fix: removeFix(`it (line ${line})`, kind) });
    }
  }
  // A stored secret's value anywhere in the text; key-shaped values were reported above already.
  for (const secret of await audit.knownSecrets()) {
    if (keyShapeOf(secret.value) !== undefined) continue;
    const line = lineOf(raw.text, secret.needles);
    if (line !== undefined) {
      findings.push({ severity: 'critical', message: `config.json line ${line} contains ${secret.label}.`, fix: removeFix(`it (line ${line})`, 'secret') });
    }
  }
  if (findings.length === 0) {
    const compared = (await audit.secrets()).ok ? ' or stored secret values' : ' (stored secret values not compared: the Keychain is unreachable)';
    return [{ severity: 'ok', message: `config.json holds no key-shaped values${compared}.`, fix: '' }];
  }
  return findings;
}

function secretNameFor(kind: string): string {
  if (/Anthropic/.test(kind)) return 'anthropic';
  if (/OpenAI/.test(kind)) return 'openai';
  if (/Telegram/.test(kind)) return 'telegram';
  return 'NAME';
}

// ---- secrets ----------------------------------------------------------------------------------------------------------

async function checkSecretStore(audit: Audit): Promise<Finding> {
  const state = await audit.secrets();
  if (!state.ok) {
    return {
      severity: 'warn',
      message: state.error,
      fix: 'Make the Keychain / Secret Service reachable as the message says, then run `pavise audit` again. Without it Pavise cannot keep API keys or verify its activity log.',
    };
  }
  if (state.unreadable.length > 0) {
    return {
      severity: 'warn',
      message: `The secret store answered, but ${state.unreadable.map((name) => `"${name}"`).join(', ')} could not be read.`,
      fix: 'Unlock the Keychain / Secret Service and allow Pavise to read its items, then run `pavise audit` again.',
    };
  }
  const service = audit.store instanceof KeychainSecretStore ? ` (service "${audit.store.service}")` : '';
  return { severity: 'ok', message: `The secret store is reachable${service}: ${state.names.length} secret${state.names.length === 1 ? '' : 's'} stored.`, fix: '' };
}

async function checkProviderKey(audit: Audit): Promise<Finding> {
  const { provider, baseURL } = await configuredProvider(audit);
  if (provider === 'openai-compatible') {
    return {
      severity: 'info',
      message: `The model is an OpenAI-compatible server${baseURL ? ` at ${baseURL}` : ''}; it may not need a key.`,
      fix: 'If the server needs a key: `pavise secrets set openai-compatible` (reads stdin).',
    };
  }
  const state = await audit.secrets();
  if (state.ok && state.values.has(provider)) {
    return { severity: 'ok', message: `An API key for ${provider} is stored in the Keychain.`, fix: '' };
  }
  const variable = providerKeyVariable(provider);
  if (providerKeyFromEnv(provider, audit.env)) {
    return { severity: 'ok', message: `The API key for ${provider} comes from ${variable} (the Keychain has none).`, fix: '' };
  }
  return {
    severity: 'warn',
    message: `No API key for ${provider} in the Keychain or ${variable}${state.ok ? '' : ' (the Keychain could not be read)'}: Pavise cannot answer.`,
    fix: `pavise secrets set ${provider}   (paste the key, then Ctrl-D; or pipe it: printf %s "$KEY" | pavise secrets set ${provider})`,
  };
}

async function configuredProvider(audit: Audit): Promise<{ provider: ProviderId; baseURL?: string }> {
  const { config } = audit.config();
  if (config) return { provider: config.model.provider, ...(config.model.baseURL ? { baseURL: config.model.baseURL } : {}) };
  // An invalid config still says which provider it meant; fall back to the default when it does not.
  const model = objectField((await audit.rawConfig()).json, 'model');
  const named = model?.provider;
  const provider = PROVIDER_IDS.find((id) => id === named) ?? 'anthropic';
  return { provider, ...(typeof model?.baseURL === 'string' ? { baseURL: model.baseURL } : {}) };
}

// ---- secrets in the database and logs ---------------------------------------------------------------------------------

async function checkDatabaseNoSecrets(audit: Audit): Promise<Finding[]> {
  const state = audit.database();
  if (state.kind === 'missing') return [{ severity: 'info', message: 'No database yet, so no secrets in it.', fix: '' }];
  if (state.kind === 'error') {
    return [{ severity: 'warn', message: `The database could not be opened to look for secrets: ${state.message}`, fix: 'Follow the message, then run `pavise audit` again.' }];
  }
  const { db } = state;
  const known = await audit.knownSecrets();
  const present = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name));
  const tables = SCANNED_TABLES.filter((table) => present.has(table));
  const hits: { table: string; id: unknown; what: string[] }[] = [];
  let scanned = 0;
  for (const table of tables) {
    // The table name comes from the fixed list above, never from input; the limit is bound (-1: no limit).
    const statement = db.prepare(`SELECT rowid AS "__audit_rowid", * FROM "${table}" ORDER BY rowid DESC LIMIT ?`);
    for (const row of statement.iterate(audit.deep ? -1 : RECENT_ROWS) as Iterable<Record<string, unknown>>) {
      scanned++;
      const what = new Set<string>();
      for (const [column, value] of Object.entries(row)) {
        if (column === '__audit_rowid' || column === 'mac' || typeof value !== 'string') continue;
        for (const description of secretsIn(value, known)) what.add(description);
      }
      if (what.size > 0) hits.push({ table, id: row.id ?? row.__audit_rowid, what: [...what] });
    }
  }
  const scope = audit.deep ? `all ${scanned} rows` : `the most recent ${RECENT_ROWS.toLocaleString('en-US')} rows per table (${scanned} rows; --deep scans all)`;
  if (hits.length === 0) {
    const compared = (await audit.secrets()).ok ? 'key-shaped strings or stored secret values' : 'key-shaped strings (stored secret values not compared: the Keychain is unreachable)';
    return [{ severity: 'ok', message: `No ${compared} in ${tables.join(', ')}: ${scope}.`, fix: '' }];
  }
  const findings: Finding[] = hits.slice(0, MAX_FINDINGS).map((hit) => ({
    severity: 'critical',
    message: `${hit.table} row ${String(hit.id)} holds ${hit.what.join(' and ')}.`,
    fix: `Rotate that secret at its provider now (it was written to disk in plain text) and store the new one with \`pavise secrets set NAME\`; then ${removalHint(hit.table, hit.id, audit.paths.database)}.`,
  }));
  if (hits.length > MAX_FINDINGS) {
    findings.push({ severity: 'critical', message: `…and ${hits.length - MAX_FINDINGS} more rows with secrets.`, fix: 'Fix the rows above, then run `pavise audit --deep` again.' });
  }
  return findings;
}

function removalHint(table: string, id: unknown, database: string): string {
  const db = shellQuote(database);
  const numeric = typeof id === 'number' && Number.isSafeInteger(id);
  switch (table) {
    case 'notes':
      return numeric ? `delete the note: sqlite3 ${db} "DELETE FROM notes WHERE id = ${id}"` : 'delete that note';
    case 'messages':
    case 'tool_calls':
      return numeric
        ? `delete the conversation it belongs to: sqlite3 ${db} "PRAGMA foreign_keys = ON; DELETE FROM sessions WHERE id = (SELECT session_id FROM ${table} WHERE id = ${id})"`
        : 'delete the conversation it belongs to';
    case 'activity':
      return 'note that the activity log is append-only and HMAC-chained: removing the row breaks its verification, so move pavise.db aside to start afresh if the row must go';
    default:
      return `delete that ${table} row`;
  }
}

async function checkLogsNoSecrets(audit: Audit): Promise<Finding[]> {
  const logs = join(audit.paths.home, 'logs');
  const info = await statOrUndefined(logs);
  if (!info) return [{ severity: 'ok', message: 'No logs folder, so no secrets in logs.', fix: '' }];
  if (!info.isDirectory()) return [{ severity: 'info', message: `${logs} is not a folder; nothing scanned.`, fix: '' }];
  const known = await audit.knownSecrets();
  const files = await listFiles(logs, 4);
  const hits: { file: string; line?: number; what: string[] }[] = [];
  for (const file of files) {
    const { text, partial } = await readTail(file, audit.deep ? Number.POSITIVE_INFINITY : LOG_TAIL_BYTES);
    text.split('\n').forEach((line, index) => {
      const what = secretsIn(line, known);
      if (what.length > 0) hits.push({ file, ...(partial ? {} : { line: index + 1 }), what });
    });
  }
  if (hits.length === 0) {
    return [{ severity: 'ok', message: `No key-shaped strings or stored secret values in ${files.length} log file${files.length === 1 ? '' : 's'} under ${logs}.`, fix: '' }];
  }
  const findings: Finding[] = hits.slice(0, MAX_FINDINGS).map((hit) => ({
    severity: 'critical',
    message: `${hit.file}${hit.line !== undefined ? ` line ${hit.line}` : ' (near its end)'} holds ${hit.what.join(' and ')}.`,
    fix: `Rotate that secret at its provider and store the new one with \`pavise secrets set NAME\`; then delete the log: rm ${shellQuote(hit.file)}`,
  }));
  if (hits.length > MAX_FINDINGS) findings.push({ severity: 'critical', message: `…and ${hits.length - MAX_FINDINGS} more log lines with secrets.`, fix: `Delete the logs: rm -r ${shellQuote(logs)}` });
  return findings;
}

async function listFiles(folder: string, depth: number): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isFile()) files.push(path);
    else if (entry.isDirectory() && depth > 0) files.push(...(await listFiles(path, depth - 1)));
  }
  return files.sort();
}

async function readTail(path: string, maxBytes: number): Promise<{ text: string; partial: boolean }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return { text: buffer.toString('utf8'), partial: length < size };
  } finally {
    await handle.close();
  }
}

/** Descriptions (never values) of the secrets a text holds. */
function secretsIn(text: string, known: readonly KnownSecret[]): string[] {
  const found: string[] = [];
  for (const secret of known) if (secret.needles.some((needle) => text.includes(needle))) found.push(secret.label);
  const shape = keyShapeOf(text);
  if (shape !== undefined) found.push(`a string shaped like ${withArticle(shape)}`);
  return found;
}

function linesWithKeyShapes(text: string): { line: number; kind: string }[] {
  return text.split('\n').flatMap((line, index) => {
    const kind = keyShapeOf(line);
    return kind ? [{ line: index + 1, kind }] : [];
  });
}

function lineOf(text: string, needles: readonly string[]): number | undefined {
  const index = text.split('\n').findIndex((line) => needles.some((needle) => line.includes(needle)));
  return index < 0 ? undefined : index + 1;
}

// ---- activity log, switches -----------------------------------------------------------------------------------------

async function checkActivityLog(audit: Audit): Promise<Finding> {
  const state = audit.database();
  if (state.kind === 'missing') return { severity: 'info', message: 'No database yet; the activity log starts on first run.', fix: '' };
  if (state.kind === 'error') {
    return { severity: 'warn', message: `The activity log could not be verified: ${state.message}`, fix: 'Follow the message, then run `pavise audit` again.' };
  }
  const { db } = state;
  const secrets = await audit.secrets();
  if (!secrets.ok) {
    return {
      severity: 'warn',
      message: `The activity log could not be verified: its key is in the secret store, which is unreachable (${secrets.error})`,
      fix: 'Make the Keychain / Secret Service reachable, then run `pavise audit` again (or `pavise activity verify`).',
    };
  }
  const rows = (db.prepare('SELECT COUNT(*) AS n FROM activity').get() as { n: number }).n;
  const hasHead = db.prepare('SELECT 1 FROM activity_head WHERE id = 1').get() !== undefined;
  const key = secrets.values.get(ACTIVITY_KEY_NAME);
  if (key === undefined) {
    if (rows === 0 && !hasHead) return { severity: 'ok', message: 'The activity log is empty (its key is created on first use).', fix: '' };
    return {
      severity: 'critical',
      message: `The activity log holds ${rows} row${rows === 1 ? '' : 's'} but its key (${ACTIVITY_KEY_NAME}) is ${secrets.unreadable.includes(ACTIVITY_KEY_NAME) ? 'unreadable in' : 'missing from'} the Keychain, so nobody can tell whether it was changed.`,
      fix: `Restore the Keychain entry "${ACTIVITY_KEY_NAME}" from a backup, or move ${shellQuote(audit.paths.database)} aside to start a new log.`,
    };
  }
  // The key is handed over from what was already read; the log never gets a chance to create or store one.
  const log = await ActivityLog.open(new ActivityRows(db), readOnlyKeyStore(key));
  const result = log.verify();
  if (result.ok) {
    return {
      severity: 'ok',
      message: result.count === 0 ? 'The activity log is empty.' : `The activity log's HMAC chain is intact (${result.count} row${result.count === 1 ? '' : 's'}).`,
      fix: '',
    };
  }
  return {
    severity: 'critical',
    message: `The activity log failed verification at row ${result.badRowId}: ${result.problem}. Something changed pavise.db outside Pavise.`,
    fix: `Keep a copy for inspection (cp ${shellQuote(audit.paths.database)} ~/pavise-evidence.db), review \`pavise activity\` around row ${result.badRowId}, and find out what wrote to the database; restore a backup or move the database aside to start a new log.`,
  };
}

function readOnlyKeyStore(key: string): SecretStore {
  return {
    get: async (name) => (name === ACTIVITY_KEY_NAME ? key : undefined),
    set: async () => {
      throw new Error('The audit never writes to the secret store.');
    },
    delete: async () => false,
    list: async () => [ACTIVITY_KEY_NAME],
  };
}

async function checkPaused(audit: Audit): Promise<Finding> {
  const switches = switchesOf(audit);
  if (typeof switches === 'string') return { severity: 'info', message: `Pause state not read: ${switches}`, fix: '' };
  const paused = switches.get('paused');
  if (!paused.on) return { severity: 'ok', message: 'Not paused.', fix: '' };
  return {
    severity: 'info',
    message: `Pavise is paused${paused.reason ? ` (${paused.reason})` : ''}${paused.since ? ` since ${new Date(paused.since).toISOString()}` : ''}: no effects, messages or model calls.`,
    fix: '`pavise resume` when you want it back.',
  };
}

async function checkCircuitBreaker(audit: Audit): Promise<Finding> {
  const switches = switchesOf(audit);
  if (typeof switches === 'string') return { severity: 'info', message: `Circuit breaker state not read: ${switches}`, fix: '' };
  const tripped = switches.get('outbound_tripped');
  if (!tripped.on) return { severity: 'ok', message: 'The outbound circuit breaker is closed.', fix: '' };
  const ago = tripped.since ? ` ${formatAge(audit.now - tripped.since)} ago` : '';
  return {
    severity: 'warn',
    message: `The outbound circuit breaker tripped${ago}${tripped.reason ? ` (${tripped.reason})` : ''}: outbound messages are stopped.`,
    fix: 'See what tripped it with `pavise activity --since 1d`; `pavise resume` resets the breaker.',
  };
}

function switchesOf(audit: Audit): Switches | string {
  const state = audit.database();
  if (state.kind === 'missing') return 'no database yet.';
  if (state.kind === 'error') return `the database could not be opened (see database-no-secrets).`;
  return new Switches(state.db);
}

function formatAge(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}

// ---- channels and policy ----------------------------------------------------------------------------------------------

async function checkOwnerIdentities(audit: Audit): Promise<Finding[]> {
  const raw = await audit.rawConfig();
  if (raw.exists && raw.json === undefined) {
    return [{ severity: 'info', message: 'config.json could not be parsed (see config-valid), so its chat channels were not checked.', fix: '' }];
  }
  const channels = objectField(raw.json, 'channels');
  const findings: Finding[] = [];
  let enabled = 0;
  for (const [name, channel] of Object.entries(channels ?? {})) {
    if (channel === null || typeof channel !== 'object' || Array.isArray(channel)) continue;
    const fields = channel as Record<string, unknown>;
    if (fields.enabled === false) continue;
    enabled++;
    const owners = Array.isArray(fields.owners) ? fields.owners.filter((owner) => typeof owner === 'string' && owner.trim().length > 0) : [];
    findings.push(
      owners.length === 0
        ? {
            severity: 'critical',
            message: `channels.${name} is enabled but names no owner: Pavise cannot tell you from anyone else who writes to it.`,
            fix: `Add your own handle to channels.${name}.owners in config.json, or set channels.${name}.enabled to false.`,
          }
        : { severity: 'ok', message: `channels.${name} is enabled with ${owners.length} owner identit${owners.length === 1 ? 'y' : 'ies'}.`, fix: '' },
    );
  }
  if (enabled === 0) return [{ severity: 'info', message: 'No chat channels enabled; only the local CLI can command Pavise.', fix: '' }];
  return findings;
}

async function checkUnknownSenderPolicy(): Promise<Finding> {
  return {
    severity: 'info',
    message:
      'Only the owner commands Pavise. Anyone else who writes is treated as data: unknown senders get no tools and no private memory, only a pairing request you decide locally.',
    fix: '',
  };
}

async function checkLimits(audit: Audit): Promise<Finding> {
  const { config } = audit.config();
  if (!config) return { severity: 'info', message: 'Limits not checked: config.json is invalid (see config-valid).', fix: '' };
  const { limits } = config;
  const problems: Finding[] = [];
  if (limits.dailySpendUsd > SPEND_WARN_USD) {
    problems.push({
      severity: 'warn',
      message: `The daily spend cap is $${limits.dailySpendUsd} (above $${SPEND_WARN_USD}).`,
      fix: 'Lower limits.dailySpendUsd in config.json (the default is 5) unless you mean to allow that much a day.',
    });
  } else if (limits.dailySpendUsd === 0) {
    problems.push({
      severity: 'info',
      message: 'The daily spend cap is $0: every paid model call is refused.',
      fix: 'Raise limits.dailySpendUsd in config.json if Pavise should answer with a paid model.',
    });
  }
  const atCeiling = (Object.keys(PacingConfigSchema.shape) as (keyof typeof PacingConfigSchema.shape)[]).filter(
    (field) => limits.pacing[field] >= (PacingConfigSchema.shape[field].unwrap().maxValue ?? Number.POSITIVE_INFINITY),
  );
  if (atCeiling.length > 0) {
    problems.push({
      severity: 'warn',
      message: `Message pacing is at its hard ceiling: ${atCeiling.map((field) => `limits.pacing.${field} = ${limits.pacing[field]}`).join(', ')}.`,
      fix: 'Lower it in config.json (defaults: 5 per minute and 30 per hour per recipient, 100 per hour overall); messaging services block accounts that send in bursts.',
    });
  }
  const figures =
    `daily spend cap $${limits.dailySpendUsd}; at most ${limits.maxStepsPerTurn} steps and ${limits.maxTokensPerTurn.toLocaleString('en-US')} tokens per turn; ` +
    `messages paced at ${limits.pacing.perRecipientPerMinute}/min and ${limits.pacing.perRecipientPerHour}/h per recipient, ${limits.pacing.overallPerHour}/h overall`;
  if (problems.length === 0) return { severity: 'ok', message: `Limits: ${figures}.`, fix: '' };
  const order: readonly AuditSeverity[] = ['ok', 'info', 'warn', 'critical'];
  const worst = problems.reduce((a, b) => (order.indexOf(b.severity) > order.indexOf(a.severity) ? b : a));
  return {
    severity: worst.severity,
    message: `${problems.map((problem) => problem.message).join(' ')} (Limits: ${figures}.)`,
    fix: problems.map((problem) => problem.fix).join(' '),
  };
}

async function checkSkills(): Promise<Finding> {
  return { severity: 'info', message: 'No skills installed (this version has no skills system yet).', fix: '' };
}

async function checkMacosPermissions(audit: Audit): Promise<Finding> {
  if (audit.platform !== 'darwin') return { severity: 'info', message: `Not macOS (${audit.platform}): Full Disk Access does not apply.`, fix: '' };
  const chatDb = join(homedir(), 'Library', 'Messages', 'chat.db');
  try {
    const handle = await open(chatDb, 'r');
    await handle.close();
    return { severity: 'ok', message: 'Full Disk Access: this process can read ~/Library/Messages/chat.db.', fix: '' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { severity: 'info', message: 'No ~/Library/Messages/chat.db: Messages has not been used on this Mac.', fix: '' };
    return {
      severity: 'warn',
      message: `Cannot read ~/Library/Messages/chat.db (${code ?? 'error'}): Full Disk Access is not granted, so the iMessage channel cannot read messages.`,
      fix: `Open System Settings › Privacy & Security › Full Disk Access (open '${FULL_DISK_ACCESS_LINK}') and turn it on for Pavise (and for your terminal when using the CLI).`,
    };
  }
}

// ---- helpers ------------------------------------------------------------------------------------------------------------

function objectField(value: unknown, key: string): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return field !== null && typeof field === 'object' && !Array.isArray(field) ? (field as Record<string, unknown>) : undefined;
}

function withArticle(kind: string): string {
  return `${/^[AEIOU]/i.test(kind) ? 'an' : 'a'} ${kind}`;
}

/** An error's message as one line; used for errors echoed in a finding. */
function errorSentence(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim() || 'unknown error';
}

/** Replaces key-shaped words and known secret values; if anything key-shaped survives, the text is withheld. */
function redactKeyShapes(text: string, known: readonly KnownSecret[]): string {
  const withoutValues = redactValues(text, known.flatMap((secret) => secret.needles));
  const redacted = withoutValues.replace(/[^\s"'`,;()[\]{}<>]+/g, (word) => (keyShapeOf(word) === undefined ? word : '[redacted]'));
  return keyShapeOf(redacted) === undefined ? redacted : 'The details are withheld because they contain what looks like a secret.';
}

function redactValues(text: string, needles: readonly string[]): string {
  let result = text;
  for (const needle of needles) if (needle.length >= MIN_SECRET_LENGTH) result = result.split(needle).join('[redacted]');
  return result;
}

/** A path as a POSIX shell word, for fixes the owner pastes. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_/.,:@%+=-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
