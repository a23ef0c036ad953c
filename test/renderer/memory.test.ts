import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer, launchBrowser, openView, removeBuild, startCore, type Core, type View } from './bridge.js';
import { seedMemories } from './scenarios.js';

/* The settings window's Memory pane, built, against a real core with real memories and remembered messages. */

let outDir: string;
let browser: Browser;
beforeAll(async () => {
  outDir = buildRenderer();
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  if (outDir) removeBuild(outDir);
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

async function memoryPane(): Promise<{ core: Core; page: Page; ids: { birthday: number; claim: number } }> {
  const core = await startCore();
  const ids = seedMemories(core.services);
  const view = await openView(browser, core, outDir, 'settings', { query: '?section=memory' });
  open.push({ core, view });
  await view.page.locator('.memory-item').first().waitFor();
  return { core, page: view.page, ids };
}

const texts = (page: Page) => page.locator('.memory-item .memory-words').allTextContents();

describe('settings: memory', () => {
  it('lists current memories by month, each with its label and source; a stranger’s claim is marked as not from you', async () => {
    const { page, ids } = await memoryPane();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Memory');
    const shown = await texts(page);
    expect(shown).toHaveLength(4);
    expect(shown).not.toContain("Mum's birthday is 21 March");
    const claim = page.locator(`[data-memory-id="${ids.claim}"]`);
    expect(await claim.locator('.untrusted-badge').textContent()).toBe('Not from you');
    expect(await claim.locator('.memory-meta').textContent()).toContain('from someone who is not you — imessage Sam (+15559990000)');
    const birthday = page.locator(`[data-memory-id="${ids.birthday}"]`);
    expect(await birthday.locator('.untrusted-badge').count()).toBe(0);
    expect(await birthday.locator('.memory-meta').textContent()).toMatch(/from you · remembered in a conversation · .* · source: conversation chat#14/);
    expect(await page.locator('section h2.group-title').first().textContent()).toBe(new Date().toLocaleDateString('en-US', { year: 'numeric', month: 'long' }));

    await page.getByLabel('Show replaced').check();
    await expect.poll(() => texts(page)).toContain("Mum's birthday is 21 March");
    expect(await page.locator('.memory-item.replaced .memory-meta').textContent()).toContain(`replaced by #${ids.birthday}`);
  });

  it('browses by person and searches memories and remembered messages', async () => {
    const { page } = await memoryPane();
    await page.getByLabel('From').selectOption({ label: 'your contact imessage:+15550001111 (1)' });
    await expect.poll(() => texts(page)).toEqual(['Alice Smith is vegetarian']);
    await page.getByLabel('From').selectOption({ label: 'Everyone' });
    await expect.poll(() => texts(page).then((all) => all.length)).toBe(4);

    await page.getByLabel('Search memories and messages').fill('passport trip');
    await page.getByRole('button', { name: 'Search' }).click();
    const messages = page.getByRole('region', { name: 'Memories' }).locator('section[aria-label="Messages"]');
    await expect.poll(() => messages.locator('.memory-words').allTextContents()).toContain('Renew the passport before the June trip to Porto');
    await page.getByLabel('Search memories and messages').fill('birthday');
    await page.getByLabel('Search memories and messages').press('Enter');
    await expect.poll(() => page.locator('section:not([aria-label="Messages"]) .memory-item .memory-words').allTextContents()).toEqual(["Mum's birthday is 12 March"]);
  });

  it('forgets a memory only after a second click, and it is gone from the core', async () => {
    const { core, page, ids } = await memoryPane();
    await page.getByRole('button', { name: `Forget memory #${ids.claim}` }).click();
    const confirm = page.getByRole('group', { name: `Forget memory #${ids.claim}?` });
    await confirm.getByRole('button', { name: 'Keep' }).click();
    expect(core.services.memoriesStore.get(ids.claim)).toBeDefined();
    await page.getByRole('button', { name: `Forget memory #${ids.claim}` }).click();
    await confirm.getByRole('button', { name: 'Forget' }).click();
    await expect.poll(() => texts(page).then((all) => all.length)).toBe(3);
    expect(core.services.memoriesStore.get(ids.claim)).toBeUndefined();
  });

  it('the owner adds a memory, labelled as theirs; an empty one cannot be sent', async () => {
    const { core, page } = await memoryPane();
    expect(await page.getByRole('button', { name: 'Remember' }).isDisabled()).toBe(true);
    await page.getByLabel('Something Pavise should remember').fill('Allergic to penicillin');
    await page.getByRole('button', { name: 'Remember' }).click();
    await expect.poll(() => texts(page)).toContain('Allergic to penicillin');
    expect(await page.getByLabel('Something Pavise should remember').inputValue()).toBe('');
    const added = core.services.memoriesStore.list().find((memory) => memory.text === 'Allergic to penicillin');
    expect(added).toMatchObject({ origin: 'owner', provenance: { kind: 'owner' } });
  });

  it('exports every memory as Markdown and as JSON lines', async () => {
    const { page } = await memoryPane();
    const [markdown] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export Markdown' }).click()]);
    expect(markdown.suggestedFilename()).toMatch(/^pavise-memories-\d{4}-\d{2}-\d{2}\.md$/);
    const md = readFileSync((await markdown.path()) ?? '', 'utf8');
    expect(md).toContain('4 current, 1 replaced');
    expect(md).toContain('from someone who is not you — imessage Sam');
    const [jsonl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'JSON lines' }).click()]);
    const rows = readFileSync((await jsonl.path()) ?? '', 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { text: string });
    expect(rows).toHaveLength(5);
  });
});
