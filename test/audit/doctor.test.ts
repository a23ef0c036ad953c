import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GATEWAY_HEARTBEAT_FILE, runDoctor, type DoctorCheck } from '../../main/audit/doctor.js';
import { formatDoctorReport } from '../../main/cli/commands/doctor.js';
import { parseConfig } from '../../main/config/config.js';
import { startFakeBotApi, TEST_BOT_TOKEN, type FakeBotApi } from '../fakes/fake-bot-api.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';

const MODEL_KEY = 'sk-ant-api03-doctor-' + 'd'.repeat(40);

/** A provider's model list on loopback: 200 for the right key, 401 otherwise (what Anthropic answers). */
let models: Server;
let modelsUrl: string;
beforeAll(async () => {
  models = createServer((request, response) => {
    const good = request.url === '/v1/models' && request.headers['x-api-key'] === MODEL_KEY;
    response.writeHead(good ? 200 : 401, { 'content-type': 'application/json' }).end(good ? '{"data":[]}' : '{"type":"error"}');
  });
  await new Promise<void>((resolve) => models.listen(0, '127.0.0.1', resolve));
  modelsUrl = `http://127.0.0.1:${(models.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => models.close(resolve));
});
let bot: FakeBotApi;
beforeEach(async () => {
  bot = await startFakeBotApi({ tokens: [TEST_BOT_TOKEN] });
});
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await bot.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function doctor(options: { token?: string; modelKey?: string; imessage?: Record<string, unknown>; now?: number } = {}) {
  const made = tempHome();
  cleanups.push(made.cleanup);
  const config = parseConfig(JSON.stringify({
    model: { provider: 'anthropic', baseURL: modelsUrl },
    channels: { telegram: { enabled: true, owners: [1], apiRoot: bot.apiRoot }, ...(options.imessage ? { imessage: options.imessage } : {}) },
  }));
  const secrets = new MemorySecretStore();
  if (options.token !== undefined) await secrets.set('telegram-bot-token', options.token);
  if (options.modelKey !== undefined) await secrets.set('anthropic', options.modelKey);
  const run = () => runDoctor({ home: made.home, config, secrets, env: {}, platform: 'linux', now: () => options.now ?? Date.now(), timeoutMs: 5_000 });
  return { home: made.home, run };
}

const byId = (checks: readonly DoctorCheck[], id: string) => checks.find((check) => check.id === id);

describe('pavise doctor', () => {
  it('passes on a working home: modules load, the keyring answers, the token and the key are accepted, disk is free', async () => {
    const { run } = await doctor({ token: TEST_BOT_TOKEN, modelKey: MODEL_KEY });
    const checks = await run();
    expect(checks.filter((check) => check.status === 'fail')).toEqual([]);
    expect(byId(checks, 'native-modules')?.status).toBe('ok');
    expect(byId(checks, 'keyring')?.message).toContain('2 secrets stored');
    expect(byId(checks, 'telegram-token')?.status).toBe('ok');
    expect(bot.callsTo('getMe')).toHaveLength(1);
    expect(byId(checks, 'model')).toMatchObject({ status: 'ok' });
    expect(byId(checks, 'disk')?.status).toBe('ok');
    expect(byId(checks, 'gateway')).toMatchObject({ status: 'warn', fix: expect.stringContaining('pavise gateway') });
    expect(formatDoctorReport(checks)).toContain('Pavise can work here.');
  });

  it('names each failure and what to do, and never prints the token or the key', async () => {
    const { run } = await doctor({ token: '999:not-the-token', modelKey: 'sk-ant-api03-wrong-' + 'w'.repeat(40), imessage: { enabled: true, chatDbPath: '/nonexistent/chat.db' } });
    const checks = await run();
    expect(byId(checks, 'telegram-token')).toMatchObject({ status: 'fail', fix: expect.stringContaining('pavise secrets set telegram-bot-token') });
    expect(byId(checks, 'model')).toMatchObject({ status: 'fail', message: 'anthropic rejects the API key', fix: expect.stringContaining('pavise secrets set anthropic') });
    expect(byId(checks, 'chat-db')).toMatchObject({ status: 'fail', message: expect.stringContaining('/nonexistent/chat.db') });
    const report = formatDoctorReport(checks);
    expect(report).toContain('3 problems keep Pavise from working');
    expect(report).not.toContain('not-the-token');
    expect(report).not.toContain('w'.repeat(20));
  });

  it('says which server could not be reached, and what to check, when Telegram or the model does not answer', async () => {
    const made = tempHome();
    cleanups.push(made.cleanup);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const config = parseConfig(JSON.stringify({ model: { provider: 'anthropic', baseURL: `http://127.0.0.1:${port}` }, channels: { telegram: { enabled: true, owners: [1], apiRoot: `http://127.0.0.1:${port}` } } }));
    const secrets = new MemorySecretStore();
    await secrets.set('telegram-bot-token', TEST_BOT_TOKEN);
    await secrets.set('anthropic', MODEL_KEY);
    const checks = await runDoctor({ home: made.home, config, secrets, env: {}, platform: 'linux', timeoutMs: 5_000 });
    expect(byId(checks, 'telegram-token')).toMatchObject({
      status: 'fail',
      message: `cannot reach Telegram at http://127.0.0.1:${port} (connection refused)`,
      fix: expect.stringContaining('channels.telegram.apiRoot'),
    });
    expect(byId(checks, 'model')).toMatchObject({ status: 'fail', message: `cannot reach anthropic at http://127.0.0.1:${port} (connection refused)`, fix: expect.stringContaining('model.baseURL') });
    expect(formatDoctorReport(checks)).not.toContain('PAVISE_DEBUG');
  });

  it('names a granted folder, .ics calendar or MCP server program in config.json that does not exist, and what to do', async () => {
    const made = tempHome();
    cleanups.push(made.cleanup);
    mkdirSync(join(made.home, 'Docs'));
    writeFileSync(join(made.home, 'work.ics'), 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n');
    const run = (config: unknown) => runDoctor({ home: made.home, config: parseConfig(JSON.stringify(config)), secrets: new MemorySecretStore(), env: { HOME: made.home }, platform: 'linux', timeoutMs: 5_000 });
    expect(byId(await run({}), 'paths')?.status).toBe('skip');
    const present = { files: { folders: [{ path: '~/Docs' }] }, schedule: { icsCalendars: [join(made.home, 'work.ics')] } };
    expect(byId(await run(present), 'paths')).toMatchObject({ status: 'ok' });
    const missing = await run({
      files: { folders: [{ path: '~/Documents/Pavise', access: 'read-write' }, { path: join(made.home, 'work.ics') }] },
      schedule: { icsCalendars: ['/nonexistent/work.ics'] },
      mcp: { servers: { notes: { command: '/nonexistent/mcp-notes' } } },
    });
    expect(byId(missing, 'paths')).toMatchObject({
      status: 'warn',
      message:
        `not found: files.folders ~/Documents/Pavise (does not exist); files.folders ${join(made.home, 'work.ics')} (not a folder); ` +
        'schedule.icsCalendars /nonexistent/work.ics (does not exist); mcp.servers.notes.command /nonexistent/mcp-notes (does not exist)',
      fix: expect.stringContaining('config.json'),
    });
  });

  it('says how to store a missing token and key', async () => {
    const { run } = await doctor();
    const checks = await run();
    expect(byId(checks, 'telegram-token')?.message).toBe('no Telegram bot token is stored');
    expect(byId(checks, 'model')?.fix).toContain('pavise secrets set anthropic');
    expect(bot.callsTo('getMe')).toHaveLength(0);
  });

  it('tells a live gateway from a dead or stuck one by its heartbeat', async () => {
    const now = Date.now();
    const { home, run } = await doctor({ token: TEST_BOT_TOKEN, modelKey: MODEL_KEY, now });
    const beat = (pid: number, at: number, state = 'connected') =>
      writeFileSync(join(home, GATEWAY_HEARTBEAT_FILE), JSON.stringify({ pid, at, channels: [{ channel: 'telegram', state }] }));
    beat(process.pid, now - 30_000);
    expect(byId(await run(), 'gateway')).toMatchObject({ status: 'ok' });
    beat(process.pid, now - 10 * 60_000);
    expect(byId(await run(), 'gateway')).toMatchObject({ status: 'fail', message: expect.stringContaining('it is stuck') });
    beat(process.pid, now - 1_000, 'retrying');
    expect(byId(await run(), 'gateway')).toMatchObject({ status: 'warn', message: expect.stringContaining('telegram is retrying') });
    beat(2 ** 22 + 12_345, now);
    expect(byId(await run(), 'gateway')).toMatchObject({ status: 'fail', message: expect.stringContaining('is not running') });
  });

  it('reads each channel\'s last poll from the heartbeat: a promise broken by more than a heartbeat is a stall', async () => {
    const now = Date.now();
    const { home, run } = await doctor({ token: TEST_BOT_TOKEN, modelKey: MODEL_KEY, now });
    const beat = (lastPollAt: number, pollDueBy: number) =>
      writeFileSync(join(home, GATEWAY_HEARTBEAT_FILE), JSON.stringify({ pid: process.pid, at: now - 5_000, channels: [{ channel: 'telegram', state: 'connected', lastPollAt, pollDueBy }] }));
    beat(now - 20_000, now + 40_000);
    expect(byId(await run(), 'gateway')).toMatchObject({ status: 'ok' });
    beat(now - 59_000, now - 1_000);
    expect(byId(await run(), 'gateway')).toMatchObject({ status: 'ok' });
    beat(now - 5 * 60_000, now - 4 * 60_000);
    expect(byId(await run(), 'gateway')).toMatchObject({ status: 'fail', message: expect.stringContaining("telegram's last poll was 300 s ago"), fix: expect.stringContaining('pavise gateway') });
  });

  it('pavise doctor (built binary) prints each check, exits 1 on a failure and says what to do', async () => {
    const made = tempHome({ channels: { telegram: { enabled: true, owners: [1], apiRoot: bot.apiRoot } } });
    cleanups.push(made.cleanup);
    const json = await runCli(['doctor', '--json'], { env: made.env, timeoutMs: 30_000 });
    expect(json.code).toBe(1);
    const checks = (JSON.parse(json.stdout) as { checks: DoctorCheck[] }).checks;
    expect(checks.map((check) => check.id)).toEqual(['node', 'native-modules', 'keyring', 'chat-db', 'automation', 'telegram-token', 'model', 'native-helper', 'login-item', 'gateway', 'paths', 'disk']);
    expect(byId(checks, 'telegram-token')?.status).toBe('fail');
    const text = await runCli(['doctor'], { env: made.env, timeoutMs: 30_000 });
    expect(text.stdout).toMatch(/✗ telegram-token +.*\n {4}fix: /);
  }, 60_000);
});
