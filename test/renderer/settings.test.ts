import BetterSqlite3 from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { API_CHANNELS } from '../../main/common/ipc.js';
import { Gateway } from '../../main/gateway/gateway.js';
import { KeychainSecretStore } from '../../main/secrets/keychain-secret-store.js';
import type { SecretStore } from '../../main/secrets/secret-store.js';
import { FakeChannel } from '../helpers/fake-channel.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { buildRenderer, launchBrowser, openView, removeBuild, startCore, type Core, type CoreOptions, type View } from './bridge.js';
import { commandTool, seedDay, webTool } from './scenarios.js';

/*
 * The settings window, built, against a real core. The secret test uses the real Keychain / Secret Service when one
 * is provided (scripts/test.sh gives a throwaway gnome-keyring), under a service name unique to this run.
 */

const keyring = process.env.PAVISE_TEST_KEYRING === '1' || process.platform === 'darwin';
const keychains: KeychainSecretStore[] = [];

let outDir: string;
let browser: Browser;
beforeAll(async () => {
  outDir = buildRenderer();
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  if (outDir) removeBuild(outDir);
  for (const store of keychains) for (const name of await store.list()) await store.delete(name);
});

const open: { core: Core; view: View; stop?: () => Promise<void> }[] = [];
afterEach(async () => {
  for (const { core, view, stop } of open.splice(0)) {
    expect(view.external).toEqual([]);
    expect(await view.cspViolations()).toEqual([]);
    await view.close();
    await stop?.();
    await core.close();
  }
});

async function settings(query: string, options: CoreOptions = {}): Promise<{ core: Core; view: View; page: Page }> {
  const core = await startCore({ extraTools: [commandTool([]), webTool()], ...options });
  const view = await openView(browser, core, outDir, 'settings', { query });
  open.push({ core, view });
  return { core, view, page: view.page };
}

const configOf = (core: Core) => JSON.parse(readFileSync(join(core.home, 'config.json'), 'utf8')) as Record<string, Record<string, unknown>>;

describe('settings: secrets', () => {
  it('a key saved in Settings lands in the SecretStore and can never be read back from the page', async () => {
    let secrets: SecretStore = new MemorySecretStore();
    if (keyring) {
      const store = new KeychainSecretStore(`Pavise renderer test ${process.pid}-${randomUUID().slice(0, 8)}`);
      keychains.push(store);
      secrets = store;
    }
    const { core, view, page } = await settings('?section=general', { secrets });
    const KEY = `sk-ant-api03-${randomUUID()}-${randomUUID()}`;
    const REPLACEMENT = `sk-ant-api03-${randomUUID()}-replacement`;

    const row = page.locator('.row', { has: page.getByText('API key', { exact: true }) });
    await expect.poll(() => row.locator('.secret-state').textContent()).toBe('Not set');
    await page.getByRole('button', { name: 'Add Anthropic API key' }).click();
    await page.getByLabel('New Anthropic API key').fill(KEY);
    await page.getByRole('button', { name: 'Store in Keychain' }).click();
    await expect.poll(() => row.locator('.secret-state').textContent()).toBe('Stored in Keychain ');
    expect(await secrets.get('anthropic')).toBe(KEY);
    // The field is gone and nothing on the page holds the value.
    expect(await page.locator('input[type="password"]').count()).toBe(0);

    await page.getByRole('button', { name: 'Replace Anthropic API key' }).click();
    await page.getByLabel('New Anthropic API key').fill(REPLACEMENT);
    await page.getByLabel('New Anthropic API key').press('Enter');
    await expect.poll(() => secrets.get('anthropic')).toBe(REPLACEMENT);
    await expect.poll(() => page.locator('input[type="password"]').count()).toBe(0);

    // window.pavise is exactly the allow-list; every method that answers something is asked, and none returns it.
    const methods = await page.evaluate(() => Object.keys((globalThis as unknown as { pavise: object }).pavise).sort());
    expect(methods).toEqual([...Object.keys(API_CHANNELS), 'onChatEvent', 'onState'].sort());
    const answers = await page.evaluate(async () => {
      const api = (globalThis as unknown as { pavise: Record<string, (request?: unknown) => Promise<unknown>> }).pavise;
      return JSON.stringify([
        await api.getState?.(),
        await api.getSettings?.(),
        await api.listActivity?.({}),
        await api.chatHistory?.({}),
        await api.verifyActivity?.(),
      ]);
    });
    for (const value of [KEY, REPLACEMENT]) {
      expect(answers).not.toContain(value);
      expect(answers).not.toContain(value.slice(-24));
      expect(await page.content()).not.toContain(value);
      expect(JSON.stringify(view.ipc)).not.toContain(value);
      expect(await pageHolds(page, value)).toEqual([]);
    }
    // The crawl does reach React's state: the home path lives only in the settings the components hold.
    expect((await pageHolds(page, core.home)).some((path) => path.startsWith('element.__react'))).toBe(true);
    expect(answers).toContain('Stored the secret \\"anthropic\\" in the Keychain');
    expect(view.ipc.filter((record) => record.channel === 'secrets.set')).toEqual([
      { channel: 'secrets.set', result: { ok: true, value: { stored: true } } },
      { channel: 'secrets.set', result: { ok: true, value: { stored: true } } },
    ]);

    await page.getByRole('button', { name: 'Remove Anthropic API key' }).click();
    await row.getByRole('button', { name: 'Remove', exact: true }).click();
    await expect.poll(() => row.locator('.secret-state').textContent()).toBe('Not set');
    expect(await secrets.get('anthropic')).toBeUndefined();
  });
});

/** Where in the page's JavaScript world a string can be found: globals (deeply), storage, form fields, React props. */
function pageHolds(page: Page, value: string): Promise<string[]> {
  return page.evaluate((needle) => {
    const found: string[] = [];
    const seen = new WeakSet<object>();
    const visit = (item: unknown, path: string, depth: number): void => {
      if (typeof item === 'string') {
        if (item.includes(needle)) found.push(path);
        return;
      }
      if ((typeof item !== 'object' && typeof item !== 'function') || item === null || depth > 6 || seen.has(item)) return;
      seen.add(item);
      let keys: string[] = [];
      try {
        keys = Object.getOwnPropertyNames(item);
      } catch {
        return;
      }
      for (const key of keys) {
        let child: unknown;
        try {
          child = (item as Record<string, unknown>)[key];
        } catch {
          continue;
        }
        visit(child, `${path}.${key}`, depth + 1);
      }
    };
    visit(globalThis, 'window', 0);
    const page = globalThis as unknown as {
      localStorage: object;
      sessionStorage: object;
      document: { cookie: string; querySelectorAll(selector: string): Iterable<Record<string, unknown>> };
    };
    const storage = [page.localStorage, page.sessionStorage].map((store) => JSON.stringify({ ...store })).join('');
    if (storage.includes(needle)) found.push('storage');
    if (page.document.cookie.includes(needle)) found.push('cookie');
    for (const field of page.document.querySelectorAll('input, textarea')) if (String(field.value).includes(needle)) found.push('form field');
    for (const element of page.document.querySelectorAll('*')) {
      for (const key of Object.keys(element)) if (key.startsWith('__react')) visit(element[key], `element.${key}`, 3);
    }
    return found;
  }, value);
}

describe('settings: forms', () => {
  it('Limits: problems are shown in words next to the field; valid values reach config.json', async () => {
    const { core, page } = await settings('');
    await page.getByRole('button', { name: 'Limits' }).click();
    const cap = page.getByLabel('Daily spend cap');
    const perMinute = page.getByLabel('Per person, per minute');
    await expect.poll(() => cap.inputValue()).toBe('5');
    await cap.fill('5000');
    await perMinute.fill('2.5');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('.row-error').allTextContents()).toEqual(['Use a number from $0 to $1,000.', 'Use a whole number from 1 to 10.']);
    expect(await cap.getAttribute('aria-invalid')).toBe('true');
    expect(await cap.getAttribute('aria-describedby')).toContain('limit-dailySpendUsd-error');
    expect(await page.getByRole('alert').filter({ hasText: 'need fixing' }).textContent()).toBe('2 values need fixing before saving.');
    expect(configOf(core).limits).toBeUndefined();

    await cap.fill('12.5');
    await perMinute.fill('3');
    await page.getByLabel('Approval expires after').fill('5');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('.group-footer .status-line-text').textContent()).toBe('Saved.');
    expect(await page.locator('.row-error').count()).toBe(0);
    expect(configOf(core).limits).toMatchObject({ dailySpendUsd: 12.5, pacing: { perRecipientPerMinute: 3 } });
    expect(configOf(core).permissions).toMatchObject({ approvalTimeoutMinutes: 5 });
  });

  it('General: the model and the persona are saved; a bad base URL is explained', async () => {
    const { core, page } = await settings('?section=general');
    const model = page.getByRole('textbox', { name: 'Model' });
    await expect.poll(() => model.inputValue()).toBe('claude-sonnet-5');
    await model.fill('claude-opus-4-5');
    await page.getByLabel('Base URL').fill('ftp://example.com');
    const modelGroup = page.locator('.group', { has: page.getByRole('heading', { name: 'Model' }) });
    await modelGroup.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('.row-error').textContent()).toBe('Enter a full address starting with https:// (or http:// for a server on this Mac).');
    expect(configOf(core).model?.name).toBeUndefined();

    await page.getByLabel('Base URL').fill(core.fake.url);
    await modelGroup.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => configOf(core).model?.name).toBe('claude-opus-4-5');

    const persona = page.getByLabel('SOUL.md');
    await persona.fill('# SOUL.md\n\nBe brief. Speak like a calm concierge.');
    await page.locator('.group', { has: page.getByRole('heading', { name: 'Persona' }) }).getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => readFileSync(core.services.paths.soul, 'utf8')).toBe('# SOUL.md\n\nBe brief. Speak like a calm concierge.');
  });

  it('Channels: Full Disk Access state and its button, owner handles, a one-time pairing code, and pairing requests decided here', async () => {
    const panes: string[] = [];
    const telegram = new FakeChannel('telegram');
    const { core, page } = await settings('?section=channels', {
      config: { channels: { imessage: { enabled: true, owners: ['+15550009876'] }, telegram: { enabled: true } } },
      platform: { fullDiskAccess: () => 'denied', openSystemPane: (pane) => (panes.push(pane), true) },
    });
    const gateway = new Gateway(core.services, { channels: [telegram], sweepMs: 50 });
    const controller = new AbortController();
    const running = gateway.run(controller.signal);
    const entry = open.at(-1);
    if (entry) entry.stop = async () => (controller.abort(), await running);
    await telegram.ready;

    const access = page.locator('.row', { hasText: 'Full Disk Access' });
    await expect.poll(() => access.locator('.access').textContent()).toBe('Not allowed');
    await access.getByRole('button', { name: 'Open Privacy Settings' }).click();
    await expect.poll(() => panes).toEqual(['full-disk-access']);

    expect(await page.getByRole('list', { name: 'Your iMessage handles' }).textContent()).toContain('+15550009876');
    await page.getByLabel('Your handles').fill('x');
    await page.locator('.inline-add').getByRole('button', { name: 'Add' }).click();
    await expect.poll(() => page.locator('.row-error').textContent()).toContain('Enter a phone number');
    await page.getByLabel('Your handles').fill('alex@icloud.com');
    await page.getByLabel('Your handles').press('Enter');
    await expect.poll(() => (configOf(core).channels?.imessage as { owners?: string[] } | undefined)?.owners).toEqual(['+15550009876', 'alex@icloud.com']);

    await page.getByRole('button', { name: 'Pair my Telegram account' }).click();
    await expect.poll(() => page.getByLabel('One-time pairing code').textContent()).toMatch(/^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);

    expect(await page.getByText('No one is waiting.').count()).toBe(1);
    await telegram.receive({ sender: '70011223', senderName: 'Jordan Lee', text: 'hi, is this Alex?', conversationId: '70011223' });
    const request = page.locator('.pairing-request');
    await expect.poll(() => request.locator('.row-label').textContent()).toBe('Let someone calling themselves “Jordan Lee” (70011223) talk to Pavise on Telegram as a contact');
    const [pending] = core.services.approvals.pending();
    await request.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => page.getByText('No one is waiting.').count()).toBe(1);
    expect(core.services.approvals.get(pending?.id ?? '')).toMatchObject({ status: 'approved', decidedBy: 'popover' });
  });

  it('Activity: a table of what happened, filters, and "Verify log" that notices an edited entry', async () => {
    const core = await startCore({ extraTools: [commandTool([]), webTool()] });
    await seedDay(core);
    const view = await openView(browser, core, outDir, 'settings', { query: '?section=activity' });
    open.push({ core, view });
    const { page } = view;
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Activity');
    const rows = page.locator('.table tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThan(5);
    expect(await page.locator('.table thead th').allTextContents()).toEqual(['Time', 'What', 'To whom', 'Decision', 'By whom']);
    const all = await rows.allTextContents();
    expect(all.some((text) => text.includes('Save a note') && text.includes('Done') && text.includes('Pavise'))).toBe(true);

    await page.getByLabel('Show').selectOption('approval_decided');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.locator('td').allTextContents()).toEqual([expect.any(String), 'Run the command rm', '—', 'Denied', 'You (menu bar)']);
    await page.getByLabel('Show').selectOption('');
    await page.getByLabel('Decision').selectOption('deny');
    await expect.poll(async () => (await rows.locator('.col-decision').allTextContents()).every((text) => text === 'Denied')).toBe(true);

    await page.getByRole('button', { name: 'Verify log' }).click();
    const count = core.services.activity.list({ limit: 2_000 }).length;
    await expect.poll(() => page.locator('.verify').textContent()).toBe(`Log verified: all ${count} entries are intact — nothing was changed or removed.`);

    const tamperer = new BetterSqlite3(core.services.paths.database);
    tamperer.prepare(`UPDATE activity SET summary = 'Nothing to see here' WHERE id = 2`).run();
    tamperer.close();
    await page.getByRole('button', { name: 'Verify log' }).click();
    await expect.poll(() => page.locator('.verify').textContent()).toBe('The log does not verify at entry #2: row 2 was edited, reordered or inserted (its MAC does not match).');
  });

  it('Skills says nothing is installed, Memory that nothing is remembered yet; the sidebar is keyboard-navigable', async () => {
    const { page } = await settings('?section=skills');
    await expect.poll(() => page.getByText('No skills installed. Nothing loads just because a folder exists.').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Skills' }).getAttribute('aria-current')).toBe('page');
    await page.getByRole('button', { name: 'Skills' }).focus();
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Memory');
    await page.getByText('Pavise has not remembered anything yet.', { exact: false }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } | null } }).document.activeElement?.textContent)).toBe('Memory');
    expect(new URL(page.url()).searchParams.get('section')).toBe('memory');
  });
});

/** A login item the test can watch and make fail, and `settings.update` held until the test lets each one go. */
async function openAtLoginPane(failWith?: string) {
  const login = { on: false, calls: [] as boolean[] };
  const platform = {
    getOpenAtLogin: () => login.on,
    setOpenAtLogin: (on: boolean) => {
      login.calls.push(on);
      if (failWith) throw new Error(failWith);
      login.on = on;
    },
  };
  const { core, view, page } = await settings('?section=general', { platform });
  const held: (() => void)[] = [];
  const invoke = core.backend.invoke.bind(core.backend);
  core.backend.invoke = async (channel, payload) => {
    if (channel === 'settings.update') await new Promise<void>((release) => held.push(release));
    return invoke(channel, payload);
  };
  const box = page.getByRole('checkbox', { name: 'Open at login' });
  await expect.poll(() => box.isChecked()).toBe(false);
  return {
    login,
    page,
    box,
    /** How many saves the page has had answered. */
    answered: () => view.ipc.filter((record) => record.channel === 'settings.update').length,
    /** Waits until `count` saves are held, then lets the oldest go. */
    releaseOne: async (count = 1) => {
      await expect.poll(() => held.length).toBeGreaterThanOrEqual(count);
      held.shift()?.();
    },
  };
}

describe('settings: General › Open at login', () => {
  it('the box changes on the click, before the save is answered', async () => {
    const { login, box, releaseOne } = await openAtLoginPane();
    await box.click();
    expect(await box.isChecked()).toBe(true);
    expect(login.calls).toEqual([]);
    await releaseOne();
    await expect.poll(() => login.on).toBe(true);
    expect(await box.isChecked()).toBe(true);
  });

  it('a failed save puts the box back to the saved value and shows the error in the row', async () => {
    const { login, page, box, releaseOne } = await openAtLoginPane('The login item could not be changed.');
    await box.click();
    expect(await box.isChecked()).toBe(true);
    await releaseOne();
    await expect.poll(() => page.locator('.row-error').textContent()).toBe('The login item could not be changed.');
    await expect.poll(() => box.isChecked()).toBe(false);
    expect(login).toEqual({ on: false, calls: [true] });
  });

  it('two quick clicks end in the state of the last one, even while the first save is answered', async () => {
    const { login, page, box, answered, releaseOne } = await openAtLoginPane();
    await box.click();
    await box.click();
    expect(await box.isChecked()).toBe(false);
    await releaseOne(2);
    await expect.poll(answered).toBe(1);
    // The first answer (saved: on) has reached the page; give it time to render before checking it did not win.
    await page.waitForTimeout(150);
    expect(await box.isChecked()).toBe(false);
    expect(login.calls).toEqual([true]);
    await releaseOne();
    await expect.poll(() => login.calls).toEqual([true, false]);
    await expect.poll(() => box.isChecked()).toBe(false);
    expect(login.on).toBe(false);
  });
});
