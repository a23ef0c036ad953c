import { ImapFlow } from 'imapflow';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TelegramChannel } from '../../main/channels/telegram/telegram-channel.js';
import { compose, type Core } from '../../main/compose.js';
import { Gateway } from '../../main/gateway/gateway.js';
import { anthropicText, anthropicToolUse, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { startFakeBotApi, TEST_BOT_TOKEN, type FakeBotApi } from '../fakes/fake-bot-api.js';
import { homeEntities, startFakeHomeAssistant, type FakeHomeAssistant } from '../fakes/fake-home-assistant.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from '../helpers/cli.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { startLoopbackHttps, type LoopbackServer } from '../helpers/loopback-https.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { until } from '../helpers/wait.js';

/*
 * Each tool family driven from a Telegram owner message through the real gateway (fake Bot API, fake model) against
 * the real servers: a granted folder on disk, HTTPS on loopback, Dovecot, and the fake Home Assistant. The tool's
 * real output reaches the model, and the owner gets the reply in the chat.
 */
const OWNER = 424242;
const HA_TOKEN = 'ha-long-lived-token-for-tests';
let dovecot: DovecotServer;
let assistant: FakeHomeAssistant;
let web: LoopbackServer;

beforeAll(async () => {
  dovecot = await startDovecot();
  const seed = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, doSTARTTLS: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false } as never);
  await seed.connect();
  await seed.append('INBOX', `From: Harbour Master <harbour@marina.example>\r\nTo: ${dovecot.user}\r\nSubject: Mooring renewal\r\nMessage-ID: <mooring@marina.example>\r\n\r\nRenews on 1 June.\r\n`);
  await seed.logout();
  assistant = await startFakeHomeAssistant(HA_TOKEN, homeEntities());
  web = await startLoopbackHttps(['weather.test'], (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html><head><title>Lisbon</title></head><body><article><h1>Lisbon today</h1><p>Sunny, 24 degrees, light wind from the north.</p></article></body></html>');
  });
}, 60_000);
afterAll(async () => {
  await dovecot?.stop();
  await assistant?.close();
  await web?.close();
});

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function start(config: (home: string) => Record<string, unknown>, secrets: Record<string, string> = {}): Promise<{ bot: FakeBotApi; llm: FakeLlmServer; services: Core; home: string; say(text: string): void }> {
  const bot = await startFakeBotApi();
  const llm = await startFakeAnthropic();
  const made = tempHome({});
  const store = new MemorySecretStore();
  for (const [name, value] of Object.entries(secrets)) await store.set(name, value);
  writeFileSync(join(made.home, 'config.json'), JSON.stringify({ model: { provider: 'anthropic', baseURL: llm.url }, channels: { telegram: { enabled: true, owners: [String(OWNER)] } }, ...config(made.home) }));
  const services = await compose({ env: { ...made.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: store, approvalPollMs: 20, webTransport: web.transport });
  const telegram = new TelegramChannel({ token: async () => TEST_BOT_TOKEN, apiRoot: bot.apiRoot, assistantNames: ['pavise'], pollTimeoutSeconds: 1, retry: { baseDelayMs: 20, maxDelayMs: 500 } });
  const controller = new AbortController();
  const done = new Gateway(services, { channels: [telegram], sweepMs: 50 }).run(controller.signal);
  stops.push(async () => {
    controller.abort();
    await done;
    services.close();
    await bot.close();
    await llm.close();
    made.cleanup();
  });
  await bot.waitForCall('getUpdates', 2);
  let id = 100;
  return {
    bot,
    llm,
    services,
    home: made.home,
    say(text) {
      bot.queueUpdates({
        update_id: 500 + id,
        message: { message_id: id++, from: { id: OWNER, is_bot: false, first_name: 'Alex' }, chat: { id: OWNER, type: 'private', first_name: 'Alex' }, date: Math.floor(Date.now() / 1000), text },
      });
    },
  };
}

/** The owner asks; the model calls one tool and answers; the reply reaches the chat. Answers what the model was given back. */
async function drive(running: Awaited<ReturnType<typeof start>>, ask: string, tool: string, input: unknown): Promise<string> {
  running.llm.enqueue(anthropicToolUse('t1', tool, input), anthropicText('Done.'));
  running.say(ask);
  await until(() => running.bot.sent.some((message) => message.text === 'Done.'), 'the reply in Telegram');
  expect(running.bot.sent.filter((message) => message.reply_markup)).toEqual([]);
  const toolResult = JSON.stringify(running.llm.requests.at(-1)?.body);
  expect(toolResult).toContain('tool_result');
  return toolResult;
}

describe('hands from a Telegram owner message', () => {
  it('files: list_files in a granted folder', async () => {
    const running = await start((home) => {
      mkdirSync(join(home, 'Docs'));
      writeFileSync(join(home, 'Docs', 'boat-insurance.pdf'), '%PDF-1.4\n');
      return { files: { folders: [{ path: join(home, 'Docs'), access: 'read' }] } };
    });
    expect(await drive(running, "what's in my Docs folder?", 'list_files', { path: join(running.home, 'Docs') })).toContain('boat-insurance.pdf');
  });

  it('web: web_fetch of a page the owner named, as Markdown', async () => {
    const running = await start(() => ({}));
    const url = web.url('weather.test', '/lisbon');
    expect(await drive(running, `what does ${url} say?`, 'web_fetch', { url })).toContain('Sunny, 24 degrees');
  });

  it('mail: search_mail on the real Dovecot, and the mail arrives in memory', async () => {
    const running = await start(
      () => ({ mail: { accounts: [{ id: 'personal', address: dovecot.user, imap: { host: '127.0.0.1', port: dovecot.port, tls: 'none' }, smtp: { host: '127.0.0.1', port: 25, tls: 'none' } }] } }),
      { 'mail-personal': dovecot.password },
    );
    expect(await drive(running, 'summarise my inbox', 'search_mail', {})).toContain('Mooring renewal');
    const [hit] = running.services.memory.textSearch('mooring', { limit: 5 });
    expect(running.services.memory.get(hit!.id)).toMatchObject({ channel: 'email', provenance: { kind: 'untrusted', source: 'email' } });
  });

  it('home: list_devices from the fake Home Assistant with the Keychain token', async () => {
    const running = await start(() => ({ home: { assistant: { url: assistant.url } } }), { 'home-assistant': HA_TOKEN });
    const result = await drive(running, 'which lights are on?', 'list_devices', {});
    expect(result).toContain('light.kitchen');
    expect(result).not.toContain(HA_TOKEN);
  });
});
