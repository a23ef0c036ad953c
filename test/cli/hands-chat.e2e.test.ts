import { ImapFlow } from 'imapflow';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { anthropicText, anthropicToolUse, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { homeEntities, startFakeHomeAssistant, type FakeHomeAssistant } from '../fakes/fake-home-assistant.js';
import { FAKE_ANTHROPIC_KEY, runCli, tempHome } from '../helpers/cli.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';

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
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  fake = await startFakeAnthropic();
  dovecot = await startDovecot();
  const seed = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, doSTARTTLS: false, auth: { user: dovecot.user, pass: dovecot.password }, logger: false } as never);
  await seed.connect();
  await seed.append('INBOX', `From: Harbour Master <harbour@marina.example>\r\nTo: ${dovecot.user}\r\nSubject: Mooring renewal\r\nMessage-ID: <mooring@marina.example>\r\n\r\nRenews on 1 June.\r\n`);
  await seed.logout();
  assistant = await startFakeHomeAssistant(HA_TOKEN, homeEntities());
}, 60_000);
afterAll(async () => {
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
