import { ImapFlow } from 'imapflow';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { anthropicText, anthropicToolUse, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { homeEntities, startFakeHomeAssistant, type FakeHomeAssistant } from '../fakes/fake-home-assistant.js';
import { FAKE_ANTHROPIC_KEY, runCli, spawnCli, tempHome } from '../helpers/cli.js';
import { mailboxSubjects, startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { until } from '../helpers/wait.js';
import { sandboxSupport } from '../../main/platform/sandbox/sandbox.js';

/*
 * Each tool family driven from `pavise chat` (the built binary, piped input, the fake model) against the real parts:
 * a granted folder, Dovecot and the fake Home Assistant, with the password and token stored through
 * `pavise secrets set` in the real Secret Service / Keychain (scripts/test.sh provides a throwaway keyring). The
 * binary has no test transport for the web, so web_fetch is driven to its SSRF refusal of a loopback address.
 */
const keyring = process.env.PAVISE_TEST_KEYRING === '1' || process.platform === 'darwin';
const HA_TOKEN = 'ha-long-lived-token-for-cli-tests';
let fake: FakeLlmServer;
let dovecot: DovecotServer;
let assistant: FakeHomeAssistant;
let smtp: SmtpSink;
/** A plain HTTP service on the host's loopback, for a command granted network access to reach. */
let service: Server;
let servicePort = 0;
let serviceHits = 0;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  fake = await startFakeAnthropic();
  dovecot = await startDovecot();
  const seed = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, doSTARTTLS: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false } as never);
  await seed.connect();
  await seed.append('INBOX', `From: Harbour Master <harbour@marina.example>\r\nTo: ${dovecot.user}\r\nSubject: Mooring renewal\r\nMessage-ID: <mooring@marina.example>\r\n\r\nRenews on 1 June.\r\n`);
  await seed.append('INBOX', `From: Boatyard <yard@marina.example>\r\nTo: ${dovecot.user}\r\nSubject: Hull cleaning\r\nMessage-ID: <hull@marina.example>\r\n\r\nBooked for Thursday.\r\n`);
  await seed.logout();
  smtp = await startSmtpSink(dovecot.user, dovecot.password);
  assistant = await startFakeHomeAssistant(HA_TOKEN, homeEntities());
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
  await fake?.close();
  await dovecot?.stop();
  await assistant?.close();
});
afterEach(() => {
  fake.reset();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function home(config: (dir: string) => Record<string, unknown>) {
  const made = tempHome({});
  cleanups.push(made.cleanup);
  writeFileSync(join(made.home, 'config.json'), JSON.stringify({ model: { provider: 'anthropic', baseURL: fake.url }, ...config(made.home) }));
  return { dir: made.home, env: { ...made.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY } };
}

/** One line to `pavise chat`; the model calls `tool` and answers "Done."; returns what the tool gave the model. */
async function chat(env: NodeJS.ProcessEnv, ask: string, tool: string, input: unknown): Promise<string> {
  fake.enqueue(anthropicToolUse('t1', tool, input), anthropicText('Done.'));
  const result = await runCli(['chat'], { env, input: `${ask}\n`, timeoutMs: 30_000 });
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('Done.');
  expect(result.stdout).toContain(`⚙ ${tool}`);
  const body = JSON.stringify(fake.requests.at(-1)?.body);
  expect(body).toContain('tool_result');
  return body;
}

async function storeSecret(env: NodeJS.ProcessEnv, name: string, value: string): Promise<void> {
  const result = await runCli(['secrets', 'set', name], { env, input: `${value}\n` });
  expect(result.code, result.stderr).toBe(0);
  cleanups.push(() => void runCli(['secrets', 'delete', name], { env }).catch(() => undefined));
}

describe('hands from pavise chat (built binary)', () => {
  it('files: list_files in a granted folder', async () => {
    const { dir, env } = home((dir) => {
      mkdirSync(join(dir, 'Docs'));
      writeFileSync(join(dir, 'Docs', 'boat-insurance.pdf'), '%PDF-1.4\n');
      return { files: { folders: [{ path: join(dir, 'Docs'), access: 'read' }] } };
    });
    expect(await chat(env, "what's in my Docs folder?", 'list_files', { path: join(dir, 'Docs') })).toContain('boat-insurance.pdf');
  }, 60_000);

  it('web: web_fetch runs, and refuses a loopback address (SSRF) in words', async () => {
    const { env } = home(() => ({}));
    const body = await chat(env, 'what does https://127.0.0.1/ say?', 'web_fetch', { url: 'https://127.0.0.1/' });
    expect(body).toMatch(/private|loopback|this machine/i);
  }, 60_000);

  it.runIf(keyring)('mail: search_mail on the real Dovecot with the password from the keyring', async () => {
    const { env } = home(() => ({ mail: { accounts: [{ id: 'personal', address: dovecot.user, imap: { host: '127.0.0.1', port: dovecot.port, tls: 'none' }, smtp: { host: '127.0.0.1', port: 25, tls: 'none' } }] } }));
    await storeSecret(env, 'mail-personal', dovecot.password);
    const body = await chat(env, 'summarise my inbox', 'search_mail', {});
    expect(body).toContain('Mooring renewal');
    expect(body).not.toContain(dovecot.password);
    const memory = await runCli(['memory', 'search', 'mooring'], { env });
    expect(memory.stdout).toContain('Mooring renewal');
  }, 60_000);

  it.runIf(keyring)('home: list_devices from the fake Home Assistant with the token from the keyring', async () => {
    const { env } = home(() => ({ home: { assistant: { url: assistant.url } } }));
    await storeSecret(env, 'home-assistant', HA_TOKEN);
    const body = await chat(env, 'which lights are on?', 'list_devices', {});
    expect(body).toContain('light.kitchen');
    expect(body).not.toContain(HA_TOKEN);
  }, 60_000);
});

const boxed = process.platform === 'linux' && sandboxSupport().ok;
const chromium = existsSync('/usr/bin/chromium');

/** `pavise chat` kept open: the owner types, reads the approval card in the terminal, and answers it. */
async function openChat(env: NodeJS.ProcessEnv) {
  const child = spawnCli(['chat'], env);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  cleanups.push(() => child.kill('SIGKILL'));
  await until(() => output.includes('Pavise ·'), 'the banner', { output: () => output });
  return {
    output: () => output,
    say: (line: string) => child.stdin?.write(`${line}\n`),
    /** Waits for the card, answers it, then for the model's closing words; returns the card. */
    async answer(decision: 'y' | 'n', closing: string): Promise<string> {
      await until(() => output.includes('Approve? ['), 'the approval prompt', { output: () => output });
      const card = output.slice(output.lastIndexOf('Approval needed:'));
      child.stdin?.write(`${decision}\n`);
      await until(() => output.includes(closing), 'the reply', { output: () => output, timeoutMs: 30_000 });
      return card;
    },
    async exit() {
      child.stdin?.end();
      expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    },
  };
}

/** What the model was given back for its one tool call, from the fake model's last request. */
function lastToolResult(): string {
  const body = JSON.stringify(fake.requests.at(-1)?.body);
  expect(body).toContain('tool_result');
  return body;
}

describe.runIf(boxed)('run_command from pavise chat (built binary, real bwrap), through the terminal approval', () => {
  function workHome() {
    return home((dir) => {
      mkdirSync(join(dir, 'Work'));
      return { files: { folders: [{ path: join(dir, 'Work'), access: 'read-write' }] } };
    });
  }

  it('approved: the card shows the program and its SHA-256; the command runs in the granted folder and its output reaches the model', async () => {
    const { dir, env } = workHome();
    const chat = await openChat(env);
    fake.enqueue(anthropicToolUse('t1', 'run_command', { argv: ['mkdir', 'trips'], cwd: join(dir, 'Work') }), anthropicText('Made the folder.'));
    chat.say('make a folder trips in my Work folder');
    const card = await chat.answer('y', 'Made the folder.');
    expect(card).toContain(`Approval needed: Run mkdir trips in ${join(dir, 'Work')}`);
    expect(card).toMatch(/program: \/\S*mkdir\s+SHA-256: [0-9a-f]{64}/);
    expect(card).not.toContain('WITH NETWORK ACCESS');
    expect(existsSync(join(dir, 'Work', 'trips'))).toBe(true);
    expect(lastToolResult()).toContain('[exit 0]');
    await chat.exit();
  }, 60_000);

  it('denied: nothing runs, and the model is told so', async () => {
    const { dir, env } = workHome();
    const chat = await openChat(env);
    fake.enqueue(anthropicToolUse('t1', 'run_command', { argv: ['mkdir', 'trips'], cwd: join(dir, 'Work') }), anthropicText('I did not make it.'));
    chat.say('make a folder trips in my Work folder');
    await chat.answer('n', 'I did not make it.');
    expect(existsSync(join(dir, 'Work', 'trips'))).toBe(false);
    expect(lastToolResult()).toContain('the owner denied it');
    expect(lastToolResult()).not.toContain('[exit 0]');
    await chat.exit();
  }, 60_000);

  it('with network: the card says WITH NETWORK ACCESS, and once approved the command reaches a service on the host', async () => {
    const { dir, env } = workHome();
    const chat = await openChat(env);
    const url = `http://127.0.0.1:${servicePort}/tides`;
    const before = serviceHits;
    fake.enqueue(anthropicToolUse('t1', 'run_command', { argv: ['curl', '-s', url], cwd: join(dir, 'Work'), network: true }), anthropicText('High water at 14:05.'));
    chat.say(`run curl -s ${url} with network access`);
    const card = await chat.answer('y', 'High water at 14:05.');
    expect(card).toContain('WITH NETWORK ACCESS');
    expect(card).toMatch(/risk: HIGH/);
    expect(serviceHits).toBe(before + 1);
    expect(lastToolResult()).toContain('tide tables: high water 14:05');
    await chat.exit();
  }, 60_000);
});

describe.runIf(chromium)('browse from pavise chat (built binary, real Chromium)', () => {
  it('a page the owner named opens in Chromium; a loopback address is refused by web_fetch\'s SSRF check, in words', async () => {
    const { env } = home(() => ({}));
    const body = await chat(env, 'open https://127.0.0.1/ in the browser', 'browse', { url: 'https://127.0.0.1/' });
    expect(body).toContain('Could not open https://127.0.0.1/');
    expect(body).toMatch(/private|loopback|this machine/i);
  }, 60_000);

  it('a host the owner did not name asks; denied, the browser opens nothing and the model is told', async () => {
    const { dir, env } = home(() => ({}));
    const chat = await openChat(env);
    fake.enqueue(anthropicToolUse('t1', 'browse', { url: 'https://weather.example.net/lisbon' }), anthropicText('I did not open it.'));
    chat.say("what's the weather in Lisbon?");
    const card = await chat.answer('n', 'I did not open it.');
    expect(card).toContain('Approval needed: Open https://weather.example.net/lisbon in the browser');
    expect(lastToolResult()).toContain('the owner denied it');
    // No screenshot was taken: the browser never ran.
    expect(existsSync(join(dir, 'browser-screenshots'))).toBe(false);
    await chat.exit();
  }, 60_000);
});

/** One owner line to a running `pavise chat`; any approval card is answered yes in the terminal. Returns the cards. */
async function chatApproving(env: NodeJS.ProcessEnv, ask: string, tool: string, input: unknown): Promise<{ body: string; cards: string[] }> {
  const chat = await openChat(env);
  fake.enqueue(anthropicToolUse('t1', tool, input), anthropicText('Done.'));
  chat.say(ask);
  const cards: string[] = [];
  await until(
    () => {
      const output = chat.output();
      const prompts = output.split('Approve? [').length - 1;
      if (prompts > cards.length) {
        cards.push(output.slice(output.lastIndexOf('Approval needed:')));
        chat.say('y');
      }
      return output.includes('Done.');
    },
    'the reply',
    { output: chat.output, timeoutMs: 30_000 },
  );
  expect(chat.output()).toContain(`⚙ ${tool}`);
  await chat.exit();
  return { body: lastToolResult(), cards };
}

describe('every other hand from pavise chat (built binary)', () => {
  const docs = (dir: string) => {
    mkdirSync(join(dir, 'Docs'));
    writeFileSync(join(dir, 'Docs', 'mooring.txt'), 'Mooring B12, renewal due 1 June.\n');
    return { files: { folders: [{ path: join(dir, 'Docs'), access: 'read-write' }] } };
  };

  it('files: read_file, search_files, write_file, move_file run; trash_file asks and, approved, moves to the Trash', async () => {
    const read = home(docs);
    expect((await chatApproving(read.env, 'read my mooring note', 'read_file', { path: join(read.dir, 'Docs', 'mooring.txt') })).body).toContain('renewal due 1 June');
    const search = home(docs);
    expect((await chatApproving(search.env, 'find "renewal" in my Docs', 'search_files', { path: join(search.dir, 'Docs'), query: 'renewal' })).body).toContain('mooring.txt');
    const write = home(docs);
    expect((await chatApproving(write.env, 'write "pay the marina" to Docs/todo.txt', 'write_file', { path: join(write.dir, 'Docs', 'todo.txt'), content: 'pay the marina\n' })).cards).toEqual([]);
    expect(existsSync(join(write.dir, 'Docs', 'todo.txt'))).toBe(true);
    const move = home(docs);
    await chatApproving(move.env, 'move Docs/mooring.txt to Docs/boat.txt', 'move_file', { from: join(move.dir, 'Docs', 'mooring.txt'), to: join(move.dir, 'Docs', 'boat.txt') });
    expect(existsSync(join(move.dir, 'Docs', 'boat.txt'))).toBe(true);
    const trash = home(docs);
    const trashed = await chatApproving(trash.env, 'trash Docs/mooring.txt', 'trash_file', { path: join(trash.dir, 'Docs', 'mooring.txt') });
    expect(trashed.cards).toHaveLength(1);
    expect(existsSync(join(trash.dir, 'Docs', 'mooring.txt'))).toBe(false);
  }, 120_000);

  it.runIf(keyring)('mail: read_mail, draft_reply, send_mail (approved in the terminal, received by SMTP), move_mail on the real Dovecot', async () => {
    const { env } = home(() => ({
      mail: { accounts: [{ id: 'personal', address: dovecot.user, imap: { host: '127.0.0.1', port: dovecot.port, tls: 'none' }, smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none' } }] },
    }));
    await storeSecret(env, 'mail-personal', dovecot.password);
    expect((await chatApproving(env, 'read the mooring mail', 'read_mail', { account: 'personal', mailbox: 'INBOX', uid: 1 })).body).toContain('Renews on 1 June.');
    await chatApproving(env, 'draft a reply to the mooring mail: thanks, paid', 'draft_reply', { account: 'personal', mailbox: 'INBOX', uid: 1, text: 'Thanks, paid.' });
    expect(await mailboxSubjects(dovecot, 'Drafts')).toContain('Re: Mooring renewal');
    const before = smtp.received.length;
    const sent = await chatApproving(env, 'email harbour@marina.example: see you in June', 'send_mail', { account: 'personal', to: ['harbour@marina.example'], subject: 'June', text: 'See you in June.' });
    expect(sent.cards.length).toBeGreaterThan(0);
    expect(smtp.received.slice(before).map((mail) => mail.to)).toEqual([['harbour@marina.example']]);
    await chatApproving(env, 'move the hull cleaning mail to the Trash', 'move_mail', { account: 'personal', mailbox: 'INBOX', uid: 2, to: 'Trash' });
    expect(await mailboxSubjects(dovecot, 'INBOX')).not.toContain('Hull cleaning');
    expect(await mailboxSubjects(dovecot, 'Trash')).toContain('Hull cleaning');
  }, 120_000);

  it.runIf(keyring)('home: get_state and call_service on the fake Home Assistant', async () => {
    const { env } = home(() => ({ home: { assistant: { url: assistant.url } } }));
    await storeSecret(env, 'home-assistant', HA_TOKEN);
    expect((await chatApproving(env, 'is light.kitchen on?', 'get_state', { entity: 'light.kitchen' })).body).toContain('light.kitchen');
    const calls = assistant.calls.length;
    await chatApproving(env, 'turn off light.kitchen', 'call_service', { domain: 'light', service: 'turn_off', entity: 'light.kitchen' });
    expect(assistant.calls.slice(calls)).toMatchObject([{ domain: 'light', service: 'turn_off', data: { entity_id: 'light.kitchen' } }]);
  }, 60_000);
});
