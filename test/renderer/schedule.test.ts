import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer, launchBrowser, openView, removeBuild, startCore, type Core, type View } from './bridge.js';

/* The popover's "Next up" line and its notice banner, built, in headless Chromium, against a real core. */

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

describe('popover: what is scheduled', () => {
  it('shows the soonest reminder as "Next up", follows a new sooner one, and shows a failed delivery as a notice', async () => {
    const core = await startCore();
    await core.services.scheduling.remindOwner('call the plumber', 'in 3 hours');
    const view = await openView(browser, core, outDir, 'popover');
    open.push({ core, view });
    const line = view.page.getByTestId('next-up');
    await expect.poll(() => line.textContent()).toContain('Next up: call the plumber');

    await core.services.scheduling.remindOwner('take the bread out', 'in 20 minutes');
    core.backend.changed();
    await expect.poll(() => line.textContent()).toContain('take the bread out');

    core.services.events.emit('alert', 'Pavise could not deliver reminder #2 (take the bread out): telegram: Forbidden: bot was blocked by the user.');
    const notice = view.page.getByTestId('notice');
    await expect.poll(() => notice.textContent()).toContain('could not deliver reminder #2');
    const shots = mkdtempSync(join(tmpdir(), 'pavise-shots-'));
    await view.page.waitForTimeout(250);
    await view.page.screenshot({ path: join(shots, 'popover-next-up-light.png'), animations: 'disabled', caret: 'hide' });
    process.stdout.write(`screenshot: ${join(shots, 'popover-next-up-light.png')}\n`);
  }, 60_000);

  it('shows no line when nothing is scheduled', async () => {
    const core = await startCore();
    const view = await openView(browser, core, outDir, 'popover');
    open.push({ core, view });
    await view.page.getByText('Nothing needs you.').waitFor();
    expect(await view.page.getByTestId('next-up').count()).toBe(0);
  }, 60_000);

  it('lists reminders and alerts in the Schedules pane, soonest first, and removes one from the core', async () => {
    const core = await startCore();
    await core.services.scheduling.remindOwner('stretch', 'weekdays at 15:00');
    const first = await core.services.scheduling.remindOwner('call the plumber', 'in 2 hours');
    const view = await openView(browser, core, outDir, 'settings', { query: '?section=schedules' });
    open.push({ core, view });
    const rows = view.page.locator('tr[data-job-id]');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.first().textContent()).toContain('call the plumber');
    expect(await rows.nth(1).textContent()).toContain('weekdays at 15:00');
    const shot = join(mkdtempSync(join(tmpdir(), 'pavise-shots-')), 'settings-schedules-light.png');
    await view.page.waitForTimeout(250);
    await view.page.screenshot({ path: shot, animations: 'disabled', caret: 'hide' });
    process.stdout.write(`screenshot: ${shot}\n`);
    await view.page.getByRole('button', { name: 'Remove call the plumber' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(core.services.jobs.get(first.id)?.status).toBe('removed');
    await view.page.getByRole('button', { name: 'Remove stretch' }).click();
    await view.page.getByText('Nothing is scheduled.').waitFor();
  }, 60_000);
});
