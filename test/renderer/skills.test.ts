import { appendFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sandboxSupport } from '../../main/platform/sandbox/sandbox.js';
import { stageSkill } from '../../main/skills/review.js';
import { FIRST_PARTY_SKILLS, plainTool, writeSkill } from '../helpers/skills.js';
import { buildRenderer, launchBrowser, openView, removeBuild, ROOT, startCore, type Core, type View } from './bridge.js';

/**
 * The Skills pane and the popover's drift banner, built, against a real core with real installed skills. Screenshots
 * go to docs/screenshots/ with PAVISE_SCREENSHOTS=1 (how the committed ones were made), else to a temp folder.
 */
const SHOTS = process.env.PAVISE_SCREENSHOTS === '1' ? join(ROOT, 'docs/screenshots') : mkdtempSync(join(tmpdir(), 'pavise-skills-shots-'));
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

const open: { core: Core; views: View[] }[] = [];
afterEach(async () => {
  for (const { core, views } of open.splice(0)) {
    for (const view of views) {
      expect(view.external).toEqual([]);
      expect(await view.cspViolations()).toEqual([]);
      await view.close();
    }
    await core.close();
  }
});

async function withSkills(): Promise<Core> {
  const core = await startCore();
  for (const name of ['weather', 'daily-brief']) {
    const staged = await stageSkill(join(FIRST_PARTY_SKILLS, name));
    const result = await core.services.skills.install(staged.review, staged.review.content.hash, staged.review.manifest.permissions);
    await staged.dispose();
    if (!result.ok) throw new Error(result.message);
  }
  open.push({ core, views: [] });
  return core;
}

async function view(core: Core, which: 'popover' | 'settings', query = '', colorScheme: 'light' | 'dark' = 'light'): Promise<View> {
  const opened = await openView(browser, core, outDir, which, { query, colorScheme });
  open.find((entry) => entry.core === core)?.views.push(opened);
  return opened;
}

describe('settings: skills', () => {
  it('Install… opens the review sheet for the picked skill and installs it with only the permissions the owner ticked', async () => {
    const picked = join(FIRST_PARTY_SKILLS, 'weather');
    const core = await startCore({ platform: { pickSkillPath: async () => picked } });
    open.push({ core, views: [] });
    const { page } = await view(core, 'settings', '?section=skills');
    await page.getByRole('button', { name: 'Install…' }).click();
    const sheet = page.getByRole('dialog');
    await expect.poll(() => sheet.count()).toBe(1);
    expect(await sheet.textContent()).toContain('Install “weather”');
    expect(await sheet.textContent()).toContain(`From ${picked}`);
    await page.screenshot({ path: join(SHOTS, 'settings-skills-install-light.png'), animations: 'disabled', caret: 'hide' });
    await sheet.getByRole('checkbox', { name: 'network:api.open-meteo.com' }).uncheck();
    await sheet.getByRole('button', { name: 'Install with 0 of 1 permissions' }).click();
    await expect.poll(() => core.services.skills.get('weather')?.state).toBe('enabled');
    expect(core.services.skills.get('weather')?.granted).toEqual({ network: [], files: [], secrets: [], binaries: [] });
    await expect.poll(() => page.locator('[data-skill="weather"]').textContent()).toContain('nothing beyond answering');
  });

  it('lists installed skills with their state and grants, and disables, enables and removes them', async () => {
    const core = await withSkills();
    const { page } = await view(core, 'settings', '?section=skills');
    const weather = page.locator('[data-skill="weather"]');
    await expect.poll(() => weather.textContent()).toContain('On');
    expect(await weather.textContent()).toContain('May: network:api.open-meteo.com');
    expect(await page.locator('[data-skill="daily-brief"]').textContent()).toContain('nothing beyond answering');
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'settings-skills-light.png'), animations: 'disabled', caret: 'hide' });

    await weather.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => core.services.skills.get('weather')?.state).toBe('disabled');
    await expect.poll(() => weather.textContent()).toContain('Off');
    await weather.getByRole('button', { name: 'Enable' }).click();
    await expect.poll(() => core.services.skills.get('weather')?.state).toBe('enabled');
    await page.getByRole('button', { name: 'Remove daily-brief' }).click();
    await expect.poll(() => page.locator('[data-skill="daily-brief"]').count()).toBe(0);
    expect(core.services.skills.get('daily-brief')).toBeUndefined();
    expect(await weather.textContent()).toMatch(/Disabled skill weather|Enabled skill weather/);
  });

  it('shows a drifted skill, its review sheet, and re-pins it only when the owner trusts the new content', async () => {
    const core = await withSkills();
    appendFileSync(join(core.services.paths.skills, 'weather', 'main.mjs'), "\nconst blob = 'ZXZpbA==" + 'A'.repeat(220) + "';\n");
    await core.services.skills.verify('weather');
    const popover = await view(core, 'popover');
    await expect.poll(() => popover.page.getByText('Skill “weather” changed on disk.').count()).toBe(1);
    await popover.page.screenshot({ path: join(SHOTS, 'popover-skill-drift-light.png'), animations: 'disabled', caret: 'hide' });

    const { page } = await view(core, 'settings', '?section=skills', 'dark');
    const weather = page.locator('[data-skill="weather"]');
    await expect.poll(() => weather.textContent()).toContain('Changed on disk — needs review');
    await page.screenshot({ path: join(SHOTS, 'settings-skills-drifted-dark.png'), animations: 'disabled', caret: 'hide' });
    await weather.getByRole('button', { name: 'Review…' }).click();
    const sheet = page.getByRole('dialog');
    await expect.poll(() => sheet.count()).toBe(1);
    expect(await sheet.textContent()).toContain('long encoded blob');
    expect(await sheet.textContent()).toContain('network:api.open-meteo.com');
    await page.screenshot({ path: join(SHOTS, 'settings-skills-review-dark.png'), animations: 'disabled', caret: 'hide' });
    await sheet.getByRole('button', { name: 'Keep it off' }).click();
    expect(core.services.skills.get('weather')?.state).toBe('changed');
    await weather.getByRole('button', { name: 'Review…' }).click();
    await page.getByRole('button', { name: 'Trust this content and turn it on' }).click();
    await expect.poll(() => core.services.skills.get('weather')?.state).toBe('enabled');
    await expect.poll(() => popover.page.getByText('Skill “weather” changed on disk.').count()).toBe(0);
  });

  it("stores a skill's granted secret in the Keychain from its row; the value never comes back, and Pavise's own keys cannot be set there", async () => {
    const core = await startCore();
    open.push({ core, views: [] });
    const work = mkdtempSync(join(tmpdir(), 'pavise-skill-secret-'));
    const dir = writeSkill(work, {
      name: 'asker',
      pavise: { tools: [plainTool('run')], permissions: { network: ['api.example.com'], secrets: ['example-token', 'anthropic', 'other-token'] } },
      body: "return 'ok';",
    });
    const staged = await stageSkill(dir);
    const { network } = staged.review.manifest.permissions;
    expect(await core.services.skills.install(staged.review, staged.review.content.hash, { network, files: [], secrets: ['example-token', 'anthropic'], binaries: [] })).toMatchObject({
      ok: false,
      code: 'reserved-secret',
    });
    const installed = await core.services.skills.install(staged.review, staged.review.content.hash, { network, files: [], secrets: ['example-token'], binaries: [] });
    await staged.dispose();
    expect(installed.ok).toBe(true);

    const { page } = await view(core, 'settings', '?section=skills');
    const row = page.locator('[data-skill="asker"]');
    const settings = row.getByRole('group', { name: 'Settings of asker' });
    await expect.poll(() => settings.textContent()).toContain('example-token');
    expect(await settings.textContent()).toContain('Not set');
    await settings.getByRole('button', { name: 'Add example-token for asker' }).click();
    const VALUE = 'tok-' + 'S3cr3tV4lue'.repeat(3);
    await settings.getByLabel('New example-token for asker').fill(VALUE);
    await settings.getByRole('button', { name: 'Store in Keychain' }).click();
    await expect.poll(() => core.secrets.get('example-token')).toBe(VALUE);
    await expect.poll(() => settings.textContent()).toContain('Stored in Keychain');
    await page.screenshot({ path: join(SHOTS, 'settings-skills-secret-light.png'), animations: 'disabled', caret: 'hide' });
    expect(await page.content()).not.toContain(VALUE);
    const listed = await core.backend.invoke('skills.list', {});
    expect(JSON.stringify(listed)).not.toContain(VALUE);
    expect(listed).toMatchObject({ ok: true, value: [{ name: 'asker', secrets: [{ name: 'example-token', stored: true }] }] });
    expect(JSON.stringify(core.services.activity.list({ since: 0, limit: 500 }))).not.toContain(VALUE);

    await core.secrets.set('anthropic', 'the-owners-api-key');
    expect(await core.backend.invoke('skills.setSecret', { name: 'asker', secret: 'anthropic', value: 'replaced' })).toMatchObject({
      ok: false,
      message: expect.stringContaining('was not granted the secret "anthropic"'),
    });
    expect(await core.backend.invoke('skills.removeSecret', { name: 'asker', secret: 'anthropic' })).toMatchObject({ ok: false });
    expect(await core.secrets.get('anthropic')).toBe('the-owners-api-key');
    expect(await core.backend.invoke('skills.setSecret', { name: 'asker', secret: 'other-token', value: 'x' })).toMatchObject({
      ok: false,
      message: expect.stringContaining('was not granted the secret "other-token"'),
    });
    expect(await core.secrets.get('other-token')).toBeUndefined();

    await settings.getByRole('button', { name: 'Remove example-token for asker' }).click();
    await settings.getByRole('button', { name: 'Remove', exact: true }).click();
    await expect.poll(() => core.secrets.get('example-token')).toBeUndefined();
  });

  it.runIf(sandboxSupport().ok)('lists MCP servers with state, grants and tools; tightens a tool, refuses loosening, disables, adds and removes servers', async () => {
    const NODE_MODULES = resolve(import.meta.dirname, '../../node_modules');
    const server = join(NODE_MODULES, '@modelcontextprotocol/server-filesystem/dist/index.js');
    const folder = mkdtempSync(join(tmpdir(), 'pavise-mcp-pane-'));
    const files = { command: 'node', args: [server, folder], permissions: { files: [{ path: NODE_MODULES, access: 'read' }, { path: folder, access: 'write' }] }, tools: { read_text_file: 'ask' } };
    const core = await startCore({ config: { mcp: { servers: { files } } } });
    open.push({ core, views: [] });
    const configPath = join(core.home, 'config.json');
    const saved = () => JSON.parse(readFileSync(configPath, 'utf8')).mcp.servers as Record<string, { enabled?: boolean; tools?: Record<string, string>; args?: string[] }>;
    expect(core.services.tools.get('files__read_text_file')).toBeUndefined();

    const { page } = await view(core, 'settings', '?section=skills');
    const row = page.locator('[data-mcp="files"]');
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain('Running');
    expect(await row.textContent()).toContain(`write:${folder}`);
    const tools = row.getByRole('list', { name: 'Tools of files' });
    expect(await tools.locator('li', { hasText: 'read_text_file' }).first().textContent()).toMatch(/write_local.*network/);
    expect(await row.getByLabel('Effects of read_text_file').inputValue()).toBe('ask');
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'settings-skills-mcp-light.png'), animations: 'disabled', caret: 'hide', fullPage: true });

    await row.getByLabel('Effects of write_file').selectOption('deny');
    await expect.poll(() => saved().files?.tools).toEqual({ read_text_file: 'ask', write_file: 'deny' });
    const looser = await core.backend.invoke('mcp.setToolOverride', { name: 'files', tool: 'read_text_file', override: 'allow' });
    expect(looser).toMatchObject({ ok: false, code: 'bad_request' });
    expect(saved().files?.tools).toEqual({ read_text_file: 'ask', write_file: 'deny' });

    await row.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => saved().files?.enabled).toBe(false);
    await expect.poll(() => row.textContent()).toContain('Off');

    await page.getByRole('button', { name: 'Add…' }).click();
    const form = page.getByRole('form', { name: 'Add an MCP server' });
    await form.getByLabel('Name').fill('notes');
    await form.getByLabel('Command').fill('node');
    await form.getByLabel('Arguments, one a line').fill(`${server}\n${folder}`);
    await form.getByLabel('Folders it may use, one a line').fill(folder);
    await form.getByRole('button', { name: 'Add server' }).click();
    await expect.poll(() => saved().notes?.args).toEqual([server, folder]);
    expect(saved().notes).toMatchObject({ command: 'node', enabled: true, permissions: { files: [{ path: folder, access: 'read' }], binaries: [] } });
    await expect.poll(() => page.locator('[data-mcp="notes"]').count()).toBe(1);
    await page.getByRole('button', { name: 'Remove notes' }).click();
    await expect.poll(() => saved().notes).toBeUndefined();
    expect(saved().files).toBeDefined();
  });
});
