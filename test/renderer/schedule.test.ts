import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../main/gateway/gateway.js';
import { startScheduler } from '../../main/scheduler/service.js';
import { FakeChannel } from '../helpers/fake-channel.js';
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
    // The daily one is always at least two hours away (in this machine's zone, the schedule's), the plumber ten
    // minutes: the order does not depend on when the test runs.
    const daily = `weekdays at ${String((new Date().getHours() + 3) % 24).padStart(2, '0')}:00`;
    await core.services.scheduling.remindOwner('stretch', daily);
    const first = await core.services.scheduling.remindOwner('call the plumber', 'in 10 minutes');
    const view = await openView(browser, core, outDir, 'settings', { query: '?section=schedules' });
    open.push({ core, view });
    const rows = view.page.locator('tr[data-job-id]');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.first().textContent()).toContain('call the plumber');
    expect(await rows.nth(1).textContent()).toContain(daily);
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

describe('the Schedules pane: add, edit, pause, run now', () => {
  it('adds a reminder typed in words: the time is read and shown before saving, and the reminder is the owner\'s', async () => {
    const core = await startCore();
    const view = await openView(browser, core, outDir, 'settings', { query: '?section=schedules' });
    open.push({ core, view });
    const page = view.page;
    await page.getByText('Nothing is scheduled.').waitFor();
    await page.getByLabel('Remind me to', { exact: true }).fill('water the plants');
    await page.getByLabel('When', { exact: true }).fill('tomorrow at 9');
    const hint = page.locator('#reminder-when-hint');
    await expect.poll(() => hint.textContent()).toMatch(/^At: .* 09:00/);
    // What the pane shows is what the core's parser answers for the same words.
    const preview = await core.backend.invoke('schedule.preview', { when: 'tomorrow at 9' });
    expect(preview).toMatchObject({ ok: true, value: { recurring: false } });
    expect(await hint.textContent()).toBe(`At: ${preview.ok ? (preview.value as { when: string }).when : ''}`);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const rows = page.locator('tr[data-job-id]');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('water the plants');
    expect(await page.getByRole('status').textContent()).toContain('Added “water the plants”');
    expect(await page.getByLabel('Remind me to', { exact: true }).inputValue()).toBe('');
    const [job] = core.services.jobs.list();
    expect(job).toMatchObject({ kind: 'reminder', title: 'water the plants', provenance: { kind: 'owner' }, status: 'active' });
    expect(job?.deliverTo).toBeUndefined();
  }, 60_000);

  it('an unreadable time is a clear error before and at saving; nothing is saved and nothing typed is lost', async () => {
    const core = await startCore();
    const view = await openView(browser, core, outDir, 'settings', { query: '?section=schedules' });
    open.push({ core, view });
    const page = view.page;
    await page.getByLabel('Remind me to', { exact: true }).fill('call the bank');
    await page.getByLabel('When', { exact: true }).fill('when pigs fly');
    const problem = page.locator('#reminder-when-hint[role=alert]');
    await expect.poll(() => problem.textContent()).toContain('"when pigs fly" is not a time Pavise understands');
    expect(await problem.textContent()).toMatch(/tomorrow at 9|in 20 minutes/);
    expect(await page.getByRole('button', { name: 'Add', exact: true }).isDisabled()).toBe(true);
    expect(await page.getByLabel('Remind me to', { exact: true }).inputValue()).toBe('call the bank');
    expect(await page.getByLabel('When', { exact: true }).inputValue()).toBe('when pigs fly');
    // Main checks it again whatever the renderer does, and every argument's shape.
    expect(await core.backend.invoke('schedule.add', { text: 'call the bank', when: 'when pigs fly' })).toMatchObject({ ok: false, code: 'bad_time' });
    expect(await core.backend.invoke('schedule.add', { text: '   ', when: 'tomorrow at 9' })).toMatchObject({ ok: false, code: 'bad_request' });
    expect(await core.backend.invoke('schedule.edit', { id: 1 })).toMatchObject({ ok: false, code: 'bad_request', message: expect.stringContaining('give the new text, the new time, or both') });
    expect(await core.backend.invoke('schedule.setPaused', { id: -1, paused: true })).toMatchObject({ ok: false, code: 'bad_request' });
    expect(await core.backend.invoke('schedule.runNow', { id: 1, as: 'owner' })).toMatchObject({ ok: false, code: 'bad_request' });
    expect(await core.backend.invoke('schedule.runNow', { id: 99 })).toMatchObject({ ok: false, code: 'not_found' });
    expect(core.services.jobs.list({ includeFinished: true })).toEqual([]);
  }, 60_000);

  it("edits a reminder's words and time, pauses and resumes it", async () => {
    const core = await startCore();
    const made = await core.services.scheduling.remindOwner('call the plumber', 'in 2 hours');
    const view = await openView(browser, core, outDir, 'settings', { query: '?section=schedules' });
    open.push({ core, view });
    const page = view.page;
    await page.getByRole('button', { name: 'Edit call the plumber' }).click();
    await page.getByLabel('Text').fill('call the plumber about the boiler');
    await page.getByLabel('New time').fill('in 5 hours');
    await expect.poll(() => page.locator(`#edit-when-hint-${made.id}`).textContent()).toMatch(/^At: /);
    await page.getByRole('button', { name: 'Save' }).click();
    const row = page.locator(`tr[data-job-id="${made.id}"]`);
    await expect.poll(() => row.textContent()).toContain('call the plumber about the boiler');
    const edited = core.services.jobs.get(made.id);
    expect(edited).toMatchObject({ title: 'call the plumber about the boiler', payload: { text: 'call the plumber about the boiler' }, provenance: { kind: 'owner' } });
    expect((edited?.nextRunAt ?? 0) - Date.now()).toBeGreaterThan(4.9 * 3_600_000);

    await page.getByRole('button', { name: 'Pause call the plumber about the boiler' }).click();
    await expect.poll(() => row.textContent()).toContain('paused');
    expect(core.services.jobs.get(made.id)).toMatchObject({ status: 'paused', nextRunAt: undefined });
    await page.getByRole('button', { name: 'Resume call the plumber about the boiler' }).click();
    await expect.poll(() => row.textContent()).not.toContain('paused');
    expect(core.services.jobs.get(made.id)).toMatchObject({ status: 'active', nextRunAt: edited?.nextRunAt });
  }, 60_000);

  it('"Run now" runs the job once through the scheduler: the reminder reaches the owner\'s chat and its schedule is unchanged', async () => {
    const owner = '+15550009876';
    const core = await startCore({ config: { channels: { imessage: { enabled: true, owners: [owner] } } } });
    const channel = new FakeChannel('imessage');
    const controller = new AbortController();
    const running = new Gateway(core.services, { channels: [channel], sweepMs: 50 }).run(controller.signal);
    await channel.ready;
    await startScheduler(core.services, controller.signal, { watchHome: false });
    const made = await core.services.scheduling.remindOwner('stretch', 'weekdays at 15:00');
    const view = await openView(browser, core, outDir, 'settings', { query: '?section=schedules' });
    open.push({ core, view });
    try {
      await view.page.getByRole('button', { name: 'Run stretch now' }).click();
      await expect.poll(() => view.page.getByRole('status').textContent()).toMatch(/Ran “stretch”: (handed to the outbox; waiting for the chat to accept it|delivered)\./);
      await expect.poll(() => channel.sent.map((message) => message.text)).toEqual([expect.stringContaining('⏰ stretch')]);
      expect(channel.sent[0]?.conversationId).toBe(`iMessage;-;${owner}`);
      await expect.poll(() => core.services.jobs.runs(made.id).map((run) => run.status)).toEqual(['delivered']);
      expect(core.services.jobs.get(made.id)?.nextRunAt).toBe(made.nextRunAt);
      const shot = join(mkdtempSync(join(tmpdir(), 'pavise-shots-')), 'settings-schedules-run.png');
      await view.page.screenshot({ path: shot, animations: 'disabled', caret: 'hide' });
      process.stdout.write(`screenshot: ${shot}\n`);
    } finally {
      controller.abort();
      await running;
    }
  }, 60_000);
});
