import { accessSync, constants, existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { HelperCommand } from '../calendar/native/helper-client.js';
import type { Config } from '../common/config-schema.js';
import { SETTINGS_URLS } from '../common/settings-urls.js';
import { defaultChatDbPath, homePaths } from '../config/paths.js';
import type { SecretStore } from '../secrets/secret-store.js';

/**
 * `pavise doctor`: whether Pavise works here (not whether it is safe: that is `pavise audit`). Every check answers
 * ok, warn or fail with what to do; a check that throws reports its own failure, so a broken home still gets a full
 * report. Network checks make one free request each (Telegram getMe, the provider's model list).
 */
export type DoctorStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  readonly id: string;
  readonly status: DoctorStatus;
  readonly message: string;
  /** What to do; empty when nothing is. */
  readonly fix: string;
}

export interface DoctorOptions {
  readonly home: string;
  readonly config: Config;
  readonly secrets: SecretStore;
  readonly env: NodeJS.ProcessEnv;
  readonly platform: NodeJS.Platform;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly timeoutMs?: number;
  /** How the Calendar and Contacts helper starts (tests: the fake osascript); default osascript and the shipped script. */
  readonly calendarHelper?: HelperCommand;
  /** How Automation of Messages is probed (tests: a fake); default osascript with MESSAGES_AUTOMATION_PROBE. */
  readonly automationProbe?: HelperCommand;
  /** Whether Pavise opens at login, where the caller can tell (the menu-bar app); the CLI cannot. */
  readonly openAtLogin?: () => boolean;
}

/**
 * A fixed script (nothing spliced): asks Messages for its chats only when it already runs, so the doctor never
 * launches it. macOS answers -1743 when Automation is refused, and asks the owner once when it was never decided.
 */
export const MESSAGES_AUTOMATION_PROBE: HelperCommand = {
  command: '/usr/bin/osascript',
  args: ['-e', 'if application "Messages" is running then', '-e', 'tell application "Messages" to return count of chats', '-e', 'end if', '-e', 'return "not running"'],
};

/** The gateway writes this every minute (and on each channel change): its pid, time and channel states. */
export const GATEWAY_HEARTBEAT_FILE = 'gateway.heartbeat.json';
export const HEARTBEAT_EVERY_MS = 60_000;
const STALE_HEARTBEAT_MS = 3 * HEARTBEAT_EVERY_MS;
const LOW_DISK_BYTES = 500 * 1024 * 1024;
const CRITICAL_DISK_BYTES = 100 * 1024 * 1024;

export interface GatewayHeartbeat {
  readonly pid: number;
  readonly at: number;
  /** `lastPollAt`: the channel's last liveness report; `pollDueBy`: when the gateway's watchdog gives up on the next. */
  readonly channels: readonly { readonly channel: string; readonly state: string; readonly detail?: string; readonly lastPollAt?: number; readonly pollDueBy?: number }[];
}

type Check = (options: DoctorOptions) => Promise<Omit<DoctorCheck, 'id'>> | Omit<DoctorCheck, 'id'>;

const ok = (message: string) => ({ status: 'ok' as const, message, fix: '' });
const skip = (message: string) => ({ status: 'skip' as const, message, fix: '' });
const fail = (message: string, fix: string) => ({ status: 'fail' as const, message, fix });
const warn = (message: string, fix: string) => ({ status: 'warn' as const, message, fix });

/** Why a request got no answer at all, in words ("connection refused", "no answer within 8 s"), for a failure that says where. */
function unreachable(error: unknown, timeoutMs: number): string {
  const { name, cause } = error as { name?: string; cause?: { code?: string; message?: string } };
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  const code = cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'its name does not resolve';
  return code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

export const DOCTOR_CHECKS: readonly { readonly id: string; readonly run: Check }[] = [
  {
    id: 'node',
    run: () => {
      const major = Number(process.versions.node.split('.')[0]);
      return major >= 24 ? ok(`Node ${process.versions.node}`) : fail(`Node ${process.versions.node} is too old`, 'Run ./scripts/start.sh, which installs Node 24 into .toolchain/.');
    },
  },
  {
    id: 'native-modules',
    run: async ({ home }) => {
      const { openDatabase } = await import('../storage/database.js');
      openDatabase(':memory:').close();
      await import('@napi-rs/keyring');
      const path = homePaths(home).database;
      // The home's own database, read-only: it opens and no newer Pavise wrote it.
      if (existsSync(path)) openDatabase(path, { readonly: true }).close();
      return ok('SQLite and the keyring module load; the database opens');
    },
  },
  {
    id: 'keyring',
    run: async ({ secrets }) => {
      const names = await secrets.list();
      return ok(`the ${process.platform === 'darwin' ? 'Keychain' : 'Secret Service'} answers (${names.length} secret${names.length === 1 ? '' : 's'} stored)`);
    },
  },
  {
    id: 'chat-db',
    run: ({ config, platform }) => {
      if (!config.channels.imessage.enabled) return skip('iMessage is not enabled');
      const path = config.channels.imessage.chatDbPath ?? defaultChatDbPath();
      try {
        accessSync(path, constants.R_OK);
        readFileSync(path, { flag: 'r' }).subarray(0, 16);
        return ok(`chat.db is readable (${path})`);
      } catch {
        return fail(
          `cannot read ${path}`,
          platform === 'darwin'
            ? `Give the app running Pavise Full Disk Access: System Settings → Privacy & Security → Full Disk Access (${SETTINGS_URLS['full-disk-access']}).`
            : 'Set channels.imessage.chatDbPath to a readable chat.db, or disable iMessage (it needs a Mac).',
        );
      }
    },
  },
  {
    id: 'automation',
    run: async ({ config, platform, env, automationProbe = MESSAGES_AUTOMATION_PROBE, timeoutMs = 8_000 }) => {
      if (!config.channels.imessage.enabled) return skip('iMessage is not enabled');
      if (platform !== 'darwin') return skip('Automation of Messages exists only on a Mac');
      const allow = `Allow it: System Settings → Privacy & Security → Automation (${SETTINGS_URLS.automation}) → Messages under Pavise.`;
      const { runProcess } = await import('../platform/run-process.js');
      const result = await runProcess(automationProbe.command, automationProbe.args, { env, timeoutMs });
      if (result.ok) {
        if (result.value.stdout.trim() === 'not running') {
          return warn('Messages is not running, so Automation of Messages could not be checked', `Open Messages and run pavise doctor again. ${allow}`);
        }
        return ok('Pavise may control Messages (Automation granted)');
      }
      const said = `${'stderr' in result ? result.stderr : ''} ${result.message}`;
      if (/-1743|not authori[sz]ed/i.test(said)) return fail('macOS refuses Pavise Automation of Messages: iMessage replies cannot be sent', allow);
      if (result.code === 'timeout') return warn('macOS is asking whether Pavise may control Messages', `Answer the prompt with OK, then run pavise doctor again. ${allow}`);
      return warn(`could not check Automation of Messages (${result.message})`, `If sends fail with "not authorised": ${allow}`);
    },
  },
  {
    id: 'telegram-token',
    run: async ({ config, secrets, fetch: fetchImpl = fetch, timeoutMs = 8_000 }) => {
      if (!config.channels.telegram.enabled) return skip('Telegram is not enabled');
      const token = await secrets.get('telegram-bot-token');
      if (!token) return fail('no Telegram bot token is stored', 'Store it: pavise secrets set telegram-bot-token (reads the token from stdin).');
      const root = config.channels.telegram.apiRoot ?? 'https://api.telegram.org';
      let response: Response;
      try {
        response = await fetchImpl(`${root}/bot${token}/getMe`, { signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        return fail(
          `cannot reach Telegram at ${root} (${unreachable(error, timeoutMs)})`,
          config.channels.telegram.apiRoot ? 'Check that channels.telegram.apiRoot is right and its server runs, then run pavise doctor again.' : 'Check this machine’s network connection, then run pavise doctor again.',
        );
      }
      const body = (await response.json().catch(() => ({}))) as { ok?: boolean; result?: { username?: string }; description?: string };
      if (body.ok) return ok(`the bot token is valid (@${body.result?.username ?? 'unknown'})`);
      if (response.status === 401 || response.status === 404) return fail('Telegram rejects the bot token', 'Get the token from @BotFather again and store it: pavise secrets set telegram-bot-token.');
      return fail(`Telegram answered ${response.status}${body.description ? ` (${body.description})` : ''}`, 'Check the network, or channels.telegram.apiRoot if you set one.');
    },
  },
  {
    id: 'model',
    run: async ({ config, secrets, env, fetch: fetchImpl = fetch, timeoutMs = 8_000 }) => {
      const { provider, baseURL } = config.model;
      const key = (await secrets.get(provider)) ?? (provider === 'anthropic' ? env.ANTHROPIC_API_KEY : provider === 'openai' ? env.OPENAI_API_KEY : undefined);
      if (!key && provider !== 'openai-compatible') return fail(`no API key for ${provider}`, `Store one: pavise secrets set ${provider} (reads the key from stdin).`);
      // Listing models is free on every provider Pavise speaks to, and proves the key and the network.
      const url =
        provider === 'anthropic'
          ? `${(baseURL ?? 'https://api.anthropic.com').replace(/\/$/, '')}/v1/models`
          : `${(baseURL ?? 'https://api.openai.com/v1').replace(/\/$/, '')}/models`;
      const headers: Record<string, string> =
        provider === 'anthropic' ? { 'x-api-key': key ?? '', 'anthropic-version': '2023-06-01' } : key ? { authorization: `Bearer ${key}` } : {};
      let response: Response;
      try {
        response = await fetchImpl(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        return fail(
          `cannot reach ${provider} at ${new URL(url).origin} (${unreachable(error, timeoutMs)})`,
          baseURL ? `Check model.baseURL (${baseURL}) and that the server runs.` : 'Check this machine’s network connection, then run pavise doctor again.',
        );
      }
      if (response.ok) return ok(`${provider} answers (${config.model.name})`);
      if (response.status === 401 || response.status === 403) return fail(`${provider} rejects the API key`, `Store a valid key: pavise secrets set ${provider}.`);
      return fail(`${provider} answered ${response.status}`, baseURL ? `Check model.baseURL (${baseURL}) and that the server runs.` : 'Check the network and the provider’s status page.');
    },
  },
  {
    id: 'native-helper',
    run: async ({ platform, env, calendarHelper, timeoutMs = 8_000 }) => {
      if (platform !== 'darwin') return skip('the Calendar and Contacts helper exists only on a Mac');
      const { HELPER_SCRIPT_NAME, NativeCalendar } = await import('../calendar/native/helper-client.js');
      const calendar = new NativeCalendar({ platform, env, timeoutMs, ...(calendarHelper ? { helper: calendarHelper } : {}) });
      if (!calendar.available) return fail(`the Calendar and Contacts helper (${HELPER_SCRIPT_NAME}) is missing beside the app`, 'Reinstall Pavise: the helper ships in Pavise.app/Contents/Resources.');
      const status = await calendar.call('status', {});
      if (!status.ok) return fail(`the Calendar and Contacts helper does not answer: ${status.message}`, 'Reinstall Pavise; if it keeps failing, run pavise doctor with PAVISE_DEBUG=1 and report the output.');
      const { events, contacts, macos } = status.value;
      const text = `the Calendar and Contacts helper answers (macOS ${macos}; calendars: ${events}, contacts: ${contacts})`;
      if (events === 'denied' || events === 'restricted') return warn(text, `Allow Calendars: System Settings → Privacy & Security → Calendars (${SETTINGS_URLS.calendars}).`);
      return ok(text);
    },
  },
  {
    id: 'login-item',
    run: ({ platform, openAtLogin }) => {
      if (platform !== 'darwin') return skip('login items exist only on a Mac');
      if (!openAtLogin) return warn('the login item is set by the menu-bar app, not visible from the CLI', 'Open Pavise → Settings → General → "Open at login".');
      return openAtLogin()
        ? ok('Pavise opens at login')
        : warn('Pavise does not open at login: after a restart nothing runs until you open it', 'Turn on Pavise → Settings → General → "Open at login".');
    },
  },
  {
    id: 'gateway',
    run: ({ home, config, now = Date.now }) => {
      const enabled = config.channels.imessage.enabled || config.channels.telegram.enabled;
      const path = join(home, GATEWAY_HEARTBEAT_FILE);
      if (!existsSync(path)) {
        return enabled ? warn('the gateway has not run in this home', 'Start it: pavise gateway (or open the menu-bar app).') : skip('no channel is enabled');
      }
      const beat = JSON.parse(readFileSync(path, 'utf8')) as GatewayHeartbeat;
      if (!isAlive(beat.pid)) return fail(`the gateway (pid ${beat.pid}) is not running`, 'Start it: pavise gateway (the menu-bar app restarts it by itself).');
      const age = now() - beat.at;
      if (age > STALE_HEARTBEAT_MS) return fail(`the gateway (pid ${beat.pid}) last reported ${Math.round(age / 60_000)} min ago: it is stuck`, `Restart it: kill ${beat.pid}, then pavise gateway.`);
      // The heartbeat is rewritten every minute, so a promise broken by more than that was not kept since.
      const stalled = beat.channels.filter((channel) => channel.pollDueBy !== undefined && now() > channel.pollDueBy + HEARTBEAT_EVERY_MS);
      if (stalled.length > 0) {
        return fail(
          `the gateway runs, but ${stalled.map((channel) => `${channel.channel}'s last poll was ${Math.round((now() - (channel.lastPollAt ?? channel.pollDueBy ?? 0)) / 1000)} s ago`).join('; ')}: stalled, and not restarted`,
          `Restart the gateway: kill ${beat.pid}, then pavise gateway (the menu-bar app restarts it by itself).`,
        );
      }
      const down = beat.channels.filter((channel) => channel.state !== 'connected');
      if (down.length > 0) return warn(`the gateway runs, but ${down.map((channel) => `${channel.channel} is ${channel.state}${channel.detail ? ` (${channel.detail})` : ''}`).join('; ')}`, 'See the channel check above, or the gateway\'s output.');
      return ok(`the gateway (pid ${beat.pid}) is alive; last report ${Math.round(age / 1000)} s ago`);
    },
  },
  {
    id: 'paths',
    run: ({ config, env }) => {
      const home = env.HOME || homedir();
      const expand = (path: string) => (path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path);
      const kind = (path: string) => {
        try {
          return statSync(path).isDirectory() ? 'folder' : 'file';
        } catch {
          return 'missing';
        }
      };
      const wanted = [
        ...config.files.folders.map((folder) => ({ field: 'files.folders', path: folder.path, want: 'folder' })),
        ...config.schedule.icsCalendars.map((path) => ({ field: 'schedule.icsCalendars', path, want: 'file' })),
        ...Object.entries(config.mcp.servers)
          .filter(([, server]) => server.enabled && server.command !== 'node')
          .map(([name, server]) => ({ field: `mcp.servers.${name}.command`, path: server.command, want: 'file' })),
      ];
      if (wanted.length === 0) return skip('no granted folders, .ics calendars or MCP server programs in config.json');
      const wrong = wanted.filter(({ path, want }) => kind(expand(path)) !== want);
      if (wrong.length === 0) return ok(`the ${wanted.length} folder${wanted.length === 1 ? '' : 's'} and files config.json names exist`);
      const listed = wrong.map(({ field, path, want }) => `${field} ${path} (${kind(expand(path)) === 'missing' ? 'does not exist' : `not a ${want}`})`).join('; ');
      return warn(`not found: ${listed}`, 'Create it, or correct or remove the entry in config.json: until then the file tools, commands, calendar or MCP server that use it fail.');
    },
  },
  {
    id: 'disk',
    run: ({ home }) => {
      const stats = statfsSync(home);
      const free = stats.bavail * stats.bsize;
      const text = `${(free / 1024 ** 3).toFixed(1)} GB free where Pavise keeps its data`;
      if (free < CRITICAL_DISK_BYTES) return fail(text, 'Free some disk space: the database cannot grow and messages may be lost.');
      if (free < LOW_DISK_BYTES) return warn(text, 'Free some disk space soon.');
      return ok(text);
    },
  },
];

export async function runDoctor(options: DoctorOptions, checks = DOCTOR_CHECKS): Promise<DoctorCheck[]> {
  const results: DoctorCheck[] = [];
  for (const { id, run } of checks) {
    try {
      results.push({ id, ...(await run(options)) });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      results.push({ id, status: 'fail', message: `the check failed: ${scrub(reason)}`, fix: 'Run `pavise doctor` again; if it keeps failing, run it with PAVISE_DEBUG=1 and report the output.' });
    }
  }
  return results;
}

/** A failed request's message may carry the URL, and so the bot token: never printed. */
function scrub(text: string): string {
  return text.replace(/bot\d+:[A-Za-z0-9_-]+/g, 'bot[secret:telegram-bot-token]').replace(/(sk-[A-Za-z0-9_-]{8})[A-Za-z0-9_-]+/g, '$1…');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
