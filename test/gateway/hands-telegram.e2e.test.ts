import { ImapFlow } from 'imapflow';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TelegramChannel } from '../../main/channels/telegram/telegram-channel.js';
import { compose, type Core } from '../../main/compose.js';
import { Gateway } from '../../main/gateway/gateway.js';
import { anthropicText, anthropicToolUse, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { startFakeBotApi, TEST_BOT_TOKEN, type FakeBotApi } from '../fakes/fake-bot-api.js';
import { homeEntities, startFakeHomeAssistant, type FakeHomeAssistant } from '../fakes/fake-home-assistant.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from '../helpers/cli.js';
import { mailboxSubjects, startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { startLoopbackHttps, type LoopbackServer } from '../helpers/loopback-https.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { until } from '../helpers/wait.js';
import { sandboxSupport } from '../../main/platform/sandbox/sandbox.js';

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
let smtp: SmtpSink;
/** What the web server was asked for, as "host path". */
let webHits: string[] = [];
/** A plain HTTP service on the host's loopback, for a command granted network access to reach. */
let service: Server;
let servicePort = 0;
let serviceHits = 0;

/** A page whose text exists only after its script runs; a click reveals more. */
const SCRIPTED_PAGE = `<!doctype html><html><head><title>Tides</title></head><body><article><h1>Tides in Lisbon</h1>
<p id="text">Loading…</p><button id="more" onclick="document.getElementById('extra').textContent='Low water at 20:17.'">More</button><p id="extra"></p>
<script>document.getElementById('text').textContent = 'High water at 14:05, 3.4 metres.';</script></article></body></html>`;

beforeAll(async () => {
  dovecot = await startDovecot();
  const seed = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, doSTARTTLS: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false } as never);
  await seed.connect();
  await seed.append('INBOX', `From: Harbour Master <harbour@marina.example>\r\nTo: ${dovecot.user}\r\nSubject: Mooring renewal\r\nMessage-ID: <mooring@marina.example>\r\n\r\nRenews on 1 June.\r\n`);
  await seed.append('INBOX', `From: Boatyard <yard@marina.example>\r\nTo: ${dovecot.user}\r\nSubject: Hull cleaning\r\nMessage-ID: <hull@marina.example>\r\n\r\nBooked for Thursday.\r\n`);
  await seed.logout();
  smtp = await startSmtpSink(dovecot.user, dovecot.password);
  assistant = await startFakeHomeAssistant(HA_TOKEN, homeEntities());
  web = await startLoopbackHttps(['weather.test', 'tides.test'], (request, response) => {
    webHits.push(`${request.headers.host?.split(':')[0]} ${request.url}`);
    if (request.url === '/tides') return void response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(SCRIPTED_PAGE);
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html><head><title>Lisbon</title></head><body><article><h1>Lisbon today</h1><p>Sunny, 24 degrees, light wind from the north.</p></article></body></html>');
  });
  service = createServer((_request, response) => {
    serviceHits++;
    response.end('tide tables: high water 14:05');
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  servicePort = (service.address() as { port: number }).port;
}, 60_000);
afterAll(async () => {
  await new Promise((resolve) => service?.close(resolve));
  await smtp?.close();
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
  // The high-risk flow decided "on the Mac": the notices are a Mac's.
  const done = new Gateway(services, { channels: [telegram], sweepMs: 50, platform: 'darwin' }).run(controller.signal);
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

const boxed = process.platform === 'linux' && sandboxSupport().ok;
const chromium = existsSync('/usr/bin/chromium');

/** The owner asks; the model calls one tool; the turn stops for an approval, announced in the chat first. */
async function askForApproval(running: Awaited<ReturnType<typeof start>>, ask: string, tool: string, input: unknown, closing: string) {
  running.llm.enqueue(anthropicToolUse('t1', tool, input), anthropicText(closing));
  running.say(ask);
  await until(() => running.bot.sent.length > 0, 'the approval notice in Telegram');
  const [pending] = running.services.approvals.pending();
  if (!pending) throw new Error('no approval is pending');
  return { notice: running.bot.sent[0]!, pending };
}

/** After the decision: the closing reply reaches the chat; answers what the model was given back. */
async function finish(running: Awaited<ReturnType<typeof start>>, closing: string): Promise<string> {
  await until(() => running.bot.sent.some((message) => message.text === closing), 'the reply in Telegram');
  const body = JSON.stringify(running.llm.requests.at(-1)?.body);
  expect(body).toContain('tool_result');
  return body;
}

describe.runIf(boxed)('run_command from a Telegram owner message (real bwrap): high risk, decided on the Mac', () => {
  const work = (home: string) => {
    mkdirSync(join(home, 'Work'));
    return { files: { folders: [{ path: join(home, 'Work'), access: 'read-write' }] } };
  };

  it('the notice offers no buttons; approved on the Mac, the command runs and its output reaches the model', async () => {
    const running = await start(work);
    const cwd = join(running.home, 'Work');
    const { notice, pending } = await askForApproval(running, 'make a folder trips in my Work folder', 'run_command', { argv: ['mkdir', 'trips'], cwd }, 'Made it.');
    expect(notice.text).toContain(`Waiting for your approval: Run mkdir trips in ${cwd}. High risk: decide on the Mac`);
    expect(notice.reply_markup).toBeUndefined();
    expect(pending.effects).toMatchObject([{ kind: 'execute', argv: ['mkdir', 'trips'], cwd, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }, { kind: 'read_private' }]);
    expect(running.services.gate.decide(pending.id, 'approve', 'popover').ok).toBe(true);
    expect(await finish(running, 'Made it.')).toContain('[exit 0]');
    expect(existsSync(join(cwd, 'trips'))).toBe(true);
    expect(running.services.approvals.get(pending.id)).toMatchObject({ status: 'used', decidedBy: 'popover' });
  });

  it('denied on the Mac: nothing runs and the model is told', async () => {
    const running = await start(work);
    const cwd = join(running.home, 'Work');
    const { pending } = await askForApproval(running, 'make a folder trips in my Work folder', 'run_command', { argv: ['mkdir', 'trips'], cwd }, 'I did not make it.');
    expect(running.services.gate.decide(pending.id, 'deny', 'popover').ok).toBe(true);
    const body = await finish(running, 'I did not make it.');
    expect(body).toContain('the owner denied it');
    expect(existsSync(join(cwd, 'trips'))).toBe(false);
  });

  it('with network: the notice says WITH NETWORK ACCESS; approved, the command reaches a service on the host', async () => {
    const running = await start(work);
    const cwd = join(running.home, 'Work');
    const url = `http://127.0.0.1:${servicePort}/tides`;
    const before = serviceHits;
    const { notice, pending } = await askForApproval(running, `run curl -s ${url} with network`, 'run_command', { argv: ['curl', '-s', url], cwd, network: true }, 'High water at 14:05.');
    expect(notice.text).toContain(`Run curl -s ${url} in ${cwd} WITH NETWORK ACCESS`);
    expect(pending.risk).toBe('high');
    expect(serviceHits).toBe(before);
    running.services.gate.decide(pending.id, 'approve', 'popover');
    expect(await finish(running, 'High water at 14:05.')).toContain('tide tables: high water 14:05');
    expect(serviceHits).toBe(before + 1);
  });
});

describe.runIf(chromium)('browse from a Telegram owner message (real Chromium, HTTPS on loopback)', () => {
  it('a page the owner named renders after its script runs, with a click; only that host is asked for', async () => {
    const running = await start(() => ({}));
    const url = web.url('tides.test', '/tides');
    webHits = [];
    const body = await drive(running, `what do the tides look like? ${url}`, 'browse', { url, actions: [{ type: 'click', selector: '#more' }] });
    expect(body).toContain('High water at 14:05, 3.4 metres.');
    expect(body).toContain('Low water at 20:17.');
    expect(body).toMatch(/screenshot: \S+\.png/);
    expect(webHits.length).toBeGreaterThan(0);
    expect(webHits.every((hit) => hit.startsWith('tides.test '))).toBe(true);
  }, 60_000);

  it('a host the owner did not name asks with bound buttons; the owner denies in Telegram and no request leaves', async () => {
    const running = await start(() => ({}));
    webHits = [];
    const { notice, pending } = await askForApproval(running, 'how are the tides today?', 'browse', { url: web.url('tides.test', '/tides') }, 'I did not open it.');
    expect(pending.risk).toBe('medium');
    expect(notice.text).toContain('Waiting for your approval: Open https://tides.test');
    running.bot.tap(notice, { button: 'Deny' });
    expect(await finish(running, 'I did not open it.')).toContain('the owner denied it');
    expect(webHits).toEqual([]);
    expect(running.services.approvals.get(pending.id)).toMatchObject({ status: 'denied', decidedBy: 'telegram' });
  }, 60_000);

  it('the same, approved in Telegram: the page opens and its text reaches the model', async () => {
    const running = await start(() => ({}));
    webHits = [];
    const { notice, pending } = await askForApproval(running, 'how are the tides today?', 'browse', { url: web.url('tides.test', '/tides') }, 'High water at 14:05.');
    running.bot.tap(notice, { button: 'Approve' });
    expect(await finish(running, 'High water at 14:05.')).toContain('High water at 14:05, 3.4 metres.');
    expect(webHits.every((hit) => hit.startsWith('tides.test '))).toBe(true);
    expect(running.services.approvals.get(pending.id)).toMatchObject({ status: 'used', decidedBy: 'telegram' });
  }, 60_000);
});

/**
 * Every other tool, one owner message each, against the same real parts. Whatever approval the gate asks for is
 * given the way the owner would: a high-risk one on the Mac, a low or medium one with the Telegram Approve button.
 */
async function driveApproving(running: Awaited<ReturnType<typeof start>>, ask: string, tool: string, input: unknown): Promise<{ body: string; decided: string[] }> {
  running.llm.enqueue(anthropicToolUse('t1', tool, input), anthropicText('Done.'));
  running.say(ask);
  const decided: string[] = [];
  await until(() => {
    const [pending] = running.services.approvals.pending();
    if (pending && !decided.includes(pending.id)) {
      // The notice comes first; a low or medium one carries the buttons, a high one sends the owner to the Mac.
      const notice = running.bot.sent.find((message) => message.text.includes(pending.title));
      if (notice && pending.risk === 'high') running.services.gate.decide(pending.id, 'approve', 'popover');
      else if (notice) running.bot.tap(notice, { button: 'Approve' });
      if (notice) decided.push(pending.id);
    }
    return running.bot.sent.some((message) => message.text === 'Done.');
  }, 'the reply in Telegram');
  const body = JSON.stringify(running.llm.requests.at(-1)?.body);
  expect(body).toContain('tool_result');
  return { body, decided: decided.map((id) => `${running.services.approvals.get(id)?.status}:${running.services.approvals.get(id)?.decidedBy}`) };
}

describe('every other hand from a Telegram owner message', () => {
  const docs = (home: string) => {
    mkdirSync(join(home, 'Docs'));
    writeFileSync(join(home, 'Docs', 'mooring.txt'), 'Mooring B12, renewal due 1 June.\n');
    return { files: { folders: [{ path: join(home, 'Docs'), access: 'read-write' }] } };
  };
  const mailConfig = () => ({
    mail: { accounts: [{ id: 'personal', address: dovecot.user, imap: { host: '127.0.0.1', port: dovecot.port, tls: 'none' }, smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none' } }] },
  });

  it('files: read_file, search_files, write_file, move_file run; trash_file asks and, approved, moves to the Trash', async () => {
    const read = await start(docs);
    expect((await driveApproving(read, 'read my mooring note', 'read_file', { path: join(read.home, 'Docs', 'mooring.txt') })).body).toContain('renewal due 1 June');
    const search = await start(docs);
    expect((await driveApproving(search, 'find "renewal" in my Docs', 'search_files', { path: join(search.home, 'Docs'), query: 'renewal' })).body).toContain('mooring.txt');
    const write = await start(docs);
    const written = await driveApproving(write, 'write "pay the marina" to Docs/todo.txt', 'write_file', { path: join(write.home, 'Docs', 'todo.txt'), content: 'pay the marina\n' });
    expect(written.decided).toEqual([]);
    expect(existsSync(join(write.home, 'Docs', 'todo.txt'))).toBe(true);
    const move = await start(docs);
    await driveApproving(move, 'move Docs/mooring.txt to Docs/boat.txt', 'move_file', { from: join(move.home, 'Docs', 'mooring.txt'), to: join(move.home, 'Docs', 'boat.txt') });
    expect(existsSync(join(move.home, 'Docs', 'boat.txt'))).toBe(true);
    const trash = await start(docs);
    const trashed = await driveApproving(trash, 'trash Docs/mooring.txt', 'trash_file', { path: join(trash.home, 'Docs', 'mooring.txt') });
    expect(trashed.decided).toEqual(['used:popover']);
    expect(existsSync(join(trash.home, 'Docs', 'mooring.txt'))).toBe(false);
  }, 60_000);

  it('mail: read_mail, draft_reply, send_mail (approved in Telegram, received by SMTP), move_mail on the real Dovecot', async () => {
    const secrets = { 'mail-personal': dovecot.password };
    const read = await start(mailConfig, secrets);
    expect((await driveApproving(read, 'read the mooring mail', 'read_mail', { account: 'personal', mailbox: 'INBOX', uid: 1 })).body).toContain('Renews on 1 June.');
    const draft = await start(mailConfig, secrets);
    const drafted = await driveApproving(draft, 'draft a reply to the mooring mail: thanks, paid', 'draft_reply', { account: 'personal', mailbox: 'INBOX', uid: 1, text: 'Thanks, paid.' });
    expect(drafted.decided).toEqual([]);
    expect(await mailboxSubjects(dovecot, 'Drafts')).toContain('Re: Mooring renewal');
    const send = await start(mailConfig, secrets);
    const before = smtp.received.length;
    const sent = await driveApproving(send, 'email harbour@marina.example: see you in June', 'send_mail', { account: 'personal', to: ['harbour@marina.example'], subject: 'June', text: 'See you in June.' });
    expect(sent.decided).toEqual(['used:telegram']);
    expect(smtp.received.slice(before).map((mail) => mail.to)).toEqual([['harbour@marina.example']]);
    const move = await start(mailConfig, secrets);
    const moved = await driveApproving(move, 'archive the hull cleaning mail', 'move_mail', { account: 'personal', mailbox: 'INBOX', uid: 2, to: 'Trash' });
    expect(moved.decided).toEqual([]);
    expect(await mailboxSubjects(dovecot, 'INBOX')).not.toContain('Hull cleaning');
    expect(await mailboxSubjects(dovecot, 'Trash')).toContain('Hull cleaning');
  }, 60_000);

  it('home: get_state and call_service on the fake Home Assistant', async () => {
    const config = () => ({ home: { assistant: { url: assistant.url } } });
    const state = await start(config, { 'home-assistant': HA_TOKEN });
    expect((await driveApproving(state, 'is light.kitchen on?', 'get_state', { entity: 'light.kitchen' })).body).toContain('light.kitchen');
    const control = await start(config, { 'home-assistant': HA_TOKEN });
    const calls = assistant.calls.length;
    await driveApproving(control, 'turn off light.kitchen', 'call_service', { domain: 'light', service: 'turn_off', entity: 'light.kitchen' });
    expect(assistant.calls.slice(calls)).toMatchObject([{ domain: 'light', service: 'turn_off', data: { entity_id: 'light.kitchen' } }]);
  }, 60_000);
});
