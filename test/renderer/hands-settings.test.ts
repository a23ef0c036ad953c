import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHomeAssistant, homeEntities, type FakeHomeAssistant } from '../fakes/fake-home-assistant.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { buildRenderer, launchBrowser, openView, removeBuild, startCore, type Core, type CoreOptions, type View } from './bridge.js';

/*
 * The Files & Web, Mail and Home panes, built, against a real core: config.json changes only through the validated
 * store, passwords and tokens go to the SecretStore and never come back, and "Test" logs in to a real Dovecot and
 * SMTP server and to the fake Home Assistant, saying what failed.
 */

let outDir: string;
let browser: Browser;
let dovecot: DovecotServer;
let smtp: SmtpSink;
let assistant: FakeHomeAssistant;
const HA_TOKEN = `ha-token-${randomUUID()}`;

beforeAll(async () => {
  outDir = buildRenderer();
  [browser, dovecot] = await Promise.all([launchBrowser(), startDovecot()]);
  smtp = await startSmtpSink(dovecot.user, dovecot.password);
  assistant = await startFakeHomeAssistant(HA_TOKEN, homeEntities());
}, 120_000);
afterAll(async () => {
  await browser?.close();
  if (outDir) removeBuild(outDir);
  await smtp?.close();
  await dovecot?.stop();
  await assistant?.close();
});

const open: { core: Core; view: View }[] = [];
afterEach(async () => {
  for (const { core, view } of open.splice(0)) {
    expect(view.external).toEqual([]);
    expect(await view.cspViolations()).toEqual([]);
    await view.close();
    await core.close();
  }
});

async function pane(section: string, options: CoreOptions = {}): Promise<{ core: Core; view: View; page: Page }> {
  const core = await startCore(options);
  const view = await openView(browser, core, outDir, 'settings', { query: `?section=${section}` });
  open.push({ core, view });
  return { core, view, page: view.page };
}

type Saved = { terminal?: { readOnlyCommands?: string[] }; files?: { folders?: unknown[] }; web?: { httpHosts?: string[] }; mail?: { accounts?: Record<string, unknown>[] }; home?: { assistant?: { url: string }; shortcuts?: string[] } };
const configOf = (core: Core) => JSON.parse(readFileSync(join(core.home, 'config.json'), 'utf8')) as Saved;

describe('settings: Files & Web', () => {
  it('grants a folder read-only, widens it to read and write, removes it; a bad path or host says why and changes nothing', async () => {
    const { core, page } = await pane('files');
    await expect.poll(() => page.getByText('No folders yet').count()).toBe(1);

    await page.getByLabel('Add a folder').fill('Documents/relative');
    await page.getByRole('button', { name: 'Add folder' }).click();
    await expect.poll(() => page.locator('.row-error').textContent()).toContain('must be an absolute path or start with "~/"');
    expect(configOf(core).files).toBeUndefined();

    await page.getByLabel('Add a folder').fill('~/Documents/Pavise');
    await page.getByRole('button', { name: 'Add folder' }).click();
    await expect.poll(() => configOf(core).files?.folders).toEqual([{ path: '~/Documents/Pavise', access: 'read' }]);
    await expect.poll(() => page.locator('.folder-path').textContent()).toBe('~/Documents/Pavise');

    await page.getByLabel('Access to ~/Documents/Pavise').selectOption('read-write');
    await expect.poll(() => configOf(core).files?.folders).toEqual([{ path: '~/Documents/Pavise', access: 'read-write' }]);
    expect(core.services.activity.list({ limit: 50 }).some((row) => row.summary === 'Changed settings')).toBe(true);

    await page.getByLabel('Plain http allowed').fill('http://intranet.example/');
    await page.getByRole('button', { name: 'Add host' }).click();
    await expect.poll(() => page.locator('.row-error').textContent()).toContain('must be a host name');
    expect(configOf(core).web).toBeUndefined();
    await page.getByLabel('Plain http allowed').fill('intranet.example');
    await page.getByRole('button', { name: 'Add host' }).click();
    await expect.poll(() => configOf(core).web?.httpHosts).toEqual(['intranet.example']);
    await page.getByRole('button', { name: 'Remove host intranet.example' }).click();
    await expect.poll(() => configOf(core).web?.httpHosts).toEqual([]);

    await page.getByRole('button', { name: 'Remove ~/Documents/Pavise' }).click();
    await expect.poll(() => configOf(core).files?.folders).toEqual([]);
    // Each change names only its own field: nothing else in config.json appears or changes.
    expect(Object.keys(configOf(core)).sort()).toEqual(['files', 'model', 'web']);
  });

  it('the read-only commands can be turned off one by one, and never extended beyond the built-in list', async () => {
    const { core, page } = await pane('files');
    const git = page.getByLabel('git status, log and diff (never with -c, --output or an external diff)');
    await expect.poll(() => git.isChecked()).toBe(true);
    await git.uncheck();
    await expect.poll(() => configOf(core).terminal?.readOnlyCommands).toEqual(['ls', 'cat', 'head', 'wc', 'grep', 'find']);
    await page.getByLabel('cat — show a file').uncheck();
    await expect.poll(() => configOf(core).terminal?.readOnlyCommands).toEqual(['ls', 'head', 'wc', 'grep', 'find']);
    await git.check();
    await expect.poll(() => configOf(core).terminal?.readOnlyCommands).toEqual(['ls', 'head', 'wc', 'grep', 'find', 'git']);
    // The core refuses a name outside the built-in list, and config.json keeps what it had.
    const before = readFileSync(join(core.home, 'config.json'), 'utf8');
    const answer = await core.backend.invoke('settings.update', { readOnlyCommands: ['ls', 'rm'] } as never);
    expect(answer).toMatchObject({ ok: false });
    expect(readFileSync(join(core.home, 'config.json'), 'utf8')).toBe(before);
  });

  /** The Files & Web pane with `settings.update` held until the test lets each one go; `refuse` makes the core say no. */
  async function heldReadOnlyPane() {
    const { core, view, page } = await pane('files');
    const held: (() => void)[] = [];
    const refused = new Set<number>();
    let calls = 0;
    const invoke = core.backend.invoke.bind(core.backend);
    core.backend.invoke = async (channel, payload) => {
      if (channel !== 'settings.update') return invoke(channel, payload);
      const call = calls++;
      await new Promise<void>((release) => held.push(release));
      // A name outside the built-in list: the core's own refusal, as a failed save.
      const sent = payload as { readOnlyCommands: string[] };
      return invoke(channel, (refused.has(call) ? { readOnlyCommands: [...sent.readOnlyCommands, 'rm'] } : payload) as never);
    };
    const git = page.getByLabel('git status, log and diff (never with -c, --output or an external diff)');
    await expect.poll(() => git.isChecked()).toBe(true);
    return {
      core,
      page,
      git,
      refuse: (call: number) => refused.add(call),
      answered: () => view.ipc.filter((record) => record.channel === 'settings.update').length,
      releaseOne: async (count = 1) => {
        await expect.poll(() => held.length).toBeGreaterThanOrEqual(count);
        held.shift()?.();
      },
    };
  }

  it('a read-only command box changes on the click, before the save is answered', async () => {
    const { core, git, releaseOne } = await heldReadOnlyPane();
    await git.click();
    expect(await git.isChecked()).toBe(false);
    expect(configOf(core).terminal).toBeUndefined();
    await releaseOne();
    await expect.poll(() => configOf(core).terminal?.readOnlyCommands).toEqual(['ls', 'cat', 'head', 'wc', 'grep', 'find']);
    expect(await git.isChecked()).toBe(false);
  });

  it('a refused save puts the read-only command box back and says why', async () => {
    const { core, page, git, refuse, releaseOne } = await heldReadOnlyPane();
    refuse(0);
    await git.click();
    expect(await git.isChecked()).toBe(false);
    await releaseOne();
    await expect.poll(() => page.locator('.status-line-text.error').count()).toBe(1);
    await expect.poll(() => git.isChecked()).toBe(true);
    expect(configOf(core).terminal).toBeUndefined();
  });

  it('two quick clicks on read-only command boxes end as the last one, even when the first save is refused', async () => {
    const { core, page, git, refuse, answered, releaseOne } = await heldReadOnlyPane();
    const cat = page.getByLabel('cat — show a file');
    refuse(0);
    await git.click();
    await cat.click();
    expect([await git.isChecked(), await cat.isChecked()]).toEqual([false, false]);
    await releaseOne(2);
    await expect.poll(answered).toBe(1);
    // The first answer (refused: the saved list, git on) has reached the page; give it time to render before
    // checking it did not win over the second click.
    await page.waitForTimeout(150);
    expect([await git.isChecked(), await cat.isChecked()]).toEqual([false, false]);
    await releaseOne();
    await expect.poll(() => configOf(core).terminal?.readOnlyCommands).toEqual(['ls', 'head', 'wc', 'grep', 'find']);
    expect([await git.isChecked(), await cat.isChecked()]).toEqual([false, false]);
  });

  it('the core refuses a key-shaped value in any of these fields, and config.json keeps what it had', async () => {
    const core = await startCore();
    try {
      const before = readFileSync(join(core.home, 'config.json'), 'utf8');
      const key = `sk-ant-api03-${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '')}`;
      const answer = await core.backend.invoke('settings.update', { shortcuts: [key] });
      expect(answer).toMatchObject({ ok: false, code: 'invalid_settings' });
      expect((answer as { message: string }).message).toContain('Keychain');
      expect((answer as { message: string }).message).not.toContain(key);
      expect(readFileSync(join(core.home, 'config.json'), 'utf8')).toBe(before);
    } finally {
      await core.close();
    }
  });
});

describe('settings: Mail', () => {
  it('adds an account (password to the SecretStore only), tests it against real IMAP and SMTP, and says which login failed', async () => {
    const { core, view, page } = await pane('mail');
    await page.getByLabel('Name').fill('personal');
    await page.getByLabel('Address').fill(dovecot.user);
    await page.getByLabel('IMAP server').fill('127.0.0.1');
    await page.getByLabel('IMAP port').fill(String(dovecot.port));
    await page.getByLabel('IMAP encryption').selectOption('none');
    await page.getByLabel('SMTP server').fill('127.0.0.1');
    await page.getByLabel('SMTP port').fill(String(smtp.port));
    await page.getByLabel('SMTP encryption').selectOption('none');

    // No password: nothing is saved, and the form says what to do.
    await page.getByRole('button', { name: 'Add account' }).click();
    await expect.poll(() => page.locator('.row-error').textContent()).toContain('Enter the password');
    expect(configOf(core).mail).toBeUndefined();

    await page.getByLabel('Password', { exact: true }).fill(dovecot.password);
    await page.getByRole('button', { name: 'Add account' }).click();
    await expect.poll(() => configOf(core).mail?.accounts).toEqual([
      { id: 'personal', address: dovecot.user, imap: { host: '127.0.0.1', port: dovecot.port, tls: 'none' }, smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none' } },
    ]);
    await expect.poll(() => core.secrets.get('mail-personal')).toBe(dovecot.password);
    expect(readFileSync(join(core.home, 'config.json'), 'utf8')).not.toContain(dovecot.password);

    const group = page.locator('.group', { has: page.getByRole('heading', { name: dovecot.user }) });
    await expect.poll(() => group.locator('.secret-state').textContent()).toBe('Stored in Keychain ');
    await page.getByRole('button', { name: `Test ${dovecot.user}` }).click();
    const results = page.getByRole('list', { name: `Test ${dovecot.user}: result` });
    await expect.poll(() => results.textContent(), { timeout: 30_000 }).toContain('IMAP works');
    expect(await results.textContent()).toContain('SMTP works');
    expect(smtp.received).toEqual([]);

    // A wrong password: both logins fail, each in words naming the secret to fix.
    await core.secrets.set('mail-personal', 'not-the-password');
    await page.getByRole('button', { name: `Test ${dovecot.user}` }).click();
    await expect.poll(() => results.textContent(), { timeout: 30_000 }).toContain('IMAP failed');
    const text = (await results.textContent()) ?? '';
    expect(text).toContain('SMTP failed');
    expect(text).toContain('refused the login');
    expect(text).toContain('mail-personal');

    for (const value of [dovecot.password, 'not-the-password']) {
      expect(await page.content()).not.toContain(value);
      expect(JSON.stringify(view.ipc.filter((record) => record.channel !== 'secrets.set'))).not.toContain(value);
    }

    await page.getByRole('button', { name: `Remove ${dovecot.user}` }).click();
    await page.getByRole('button', { name: 'Remove account' }).click();
    await expect.poll(() => configOf(core).mail?.accounts).toEqual([]);
    await expect.poll(() => core.secrets.get('mail-personal')).toBeUndefined();
  }, 90_000);

  it('a server that does not answer is named in the result', async () => {
    const { core, page } = await pane('mail', {
      config: { mail: { accounts: [{ id: 'work', address: 'me@work.test', imap: { host: '127.0.0.1', port: 9, tls: 'none' }, smtp: { host: '127.0.0.1', port: 9, tls: 'none' } }] } },
    });
    await core.secrets.set('mail-work', 'whatever-password');
    await page.getByRole('button', { name: 'Test me@work.test' }).click();
    const results = page.getByRole('list', { name: 'Test me@work.test: result' });
    await expect.poll(() => results.textContent(), { timeout: 30_000 }).toContain('IMAP failed: Could not connect to 127.0.0.1');
    expect(await results.textContent()).toContain('SMTP failed: Could not connect to 127.0.0.1:9');
  }, 60_000);
});

describe('settings: Home', () => {
  it('saves the Home Assistant address, stores the token, tests it, and keeps the Shortcuts list', async () => {
    const { core, view, page } = await pane('home');
    await page.getByLabel('Address').fill('http://example.com:8123');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('.row-error').textContent()).toContain('outside your home network');
    expect(configOf(core).home).toBeUndefined();

    await page.getByLabel('Address').fill(assistant.url);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => configOf(core).home?.assistant).toEqual({ url: assistant.url });

    await page.getByRole('button', { name: 'Test Home Assistant' }).click();
    const results = page.getByRole('list', { name: 'Test Home Assistant: result' });
    await expect.poll(() => results.textContent()).toContain('Home Assistant failed: No Home Assistant token');

    await page.getByRole('button', { name: 'Add Home Assistant token' }).click();
    await page.getByLabel('New Home Assistant token').fill(HA_TOKEN);
    await page.getByRole('button', { name: 'Store in Keychain' }).click();
    await expect.poll(() => core.secrets.get('home-assistant')).toBe(HA_TOKEN);
    await page.getByRole('button', { name: 'Test Home Assistant' }).click();
    await expect.poll(() => results.textContent()).toContain(`Home Assistant works: Connected to ${assistant.url}: ${homeEntities().length} entities.`);
    expect(assistant.calls).toEqual([]);

    await page.getByLabel('Allowed shortcuts').fill('Good Night');
    await page.getByRole('button', { name: 'Add shortcut' }).click();
    await expect.poll(() => configOf(core).home?.shortcuts).toEqual(['Good Night']);
    expect(configOf(core).home?.assistant).toEqual({ url: assistant.url });

    expect(await page.content()).not.toContain(HA_TOKEN);
    expect(JSON.stringify(view.ipc.filter((record) => record.channel !== 'secrets.set'))).not.toContain(HA_TOKEN);
    expect(readFileSync(join(core.home, 'config.json'), 'utf8')).not.toContain(HA_TOKEN);
  });
});
