import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicToolUse } from '../fakes/fake-anthropic-server.js';
import { fakeHelperHome, sampleStore, type FakeHelperHome } from '../calendar/native/fake-store.js';
import { buildRenderer, launchBrowser, openView, removeBuild, startCore } from './bridge.js';
import { USAGE } from './scenarios.js';

/**
 * The popover card of a calendar change shows exactly what it will do, from the values the approval is bound to:
 * title, time with its time zone, calendar, who is mailed, and whose invitation it is. Real renderer, real core, the
 * real calendar tools over the fake helper. PAVISE_SCREENSHOT_DIR keeps the screenshots (docs/screenshots).
 */

let outDir: string;
let browser: Browser;
let helper: FakeHelperHome;
const shots = process.env.PAVISE_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'pavise-shots-'));
beforeAll(async () => {
  outDir = buildRenderer();
  browser = await launchBrowser();
  helper = fakeHelperHome(sampleStore());
}, 120_000);
afterAll(async () => {
  await browser?.close();
  if (outDir) removeBuild(outDir);
  helper?.close();
  if (!process.env.PAVISE_SCREENSHOT_DIR) rmSync(shots, { recursive: true, force: true });
});

function fieldsOf(text: string): string {
  return text.replace(/\s+/g, ' ');
}

describe('popover: a calendar change', () => {
  it('a new event shows its title, time and zone, calendar, and exactly who its invitations mail', async () => {
    const core = await startCore({ config: { owner: { emails: ['me@example.com'] } }, calendar: helper.options });
    const view = await openView(browser, core, outDir, 'popover', { colorScheme: 'light', deviceScaleFactor: 2 });
    try {
      core.fake.enqueue(
        anthropicToolUse('toolu_cal', 'create_event', {
          title: 'Lunch with Sam', start: '2026-12-05T12:30:00+00:00', end: '2026-12-05T13:30:00+00:00', timeZone: 'Europe/London', calendar: 'Home',
          location: 'Trattoria Roma', attendees: ['sam@example.net', 'me@example.com'],
        }, USAGE),
      );
      expect((await core.backend.invoke('chat.send', { text: 'Add lunch with Sam (sam@example.net) on Saturday 12:30 at Trattoria Roma, and invite him.' })).ok).toBe(true);
      const [approval] = await core.untilPending(1);
      expect(approval?.tool).toBe('create_event');
      const card = view.page.locator(`[data-approval-id="${approval?.id}"]`);
      await expect.poll(() => card.count()).toBe(1);
      const fields = card.locator('.exact-field');
      const rows = (await fields.allTextContents()).map(fieldsOf);
      expect(rows).toEqual([
        'ActionAdd to your calendar',
        'TitleLunch with Sam',
        'When2026-12-05 12:30 (UTC+00:00) – 2026-12-05 13:30 (UTC+00:00)',
        'Time zoneEurope/London',
        'CalendarHome',
        'LocationTrattoria Roma',
        'Mailed tosam@example.net',
        'Also on it (you)me@example.com',
      ]);
      expect(await card.getByRole('heading', { level: 2 }).textContent()).toBe('Add "Lunch with Sam" to your calendar, inviting sam@example.net, me@example.com');
      expect(await card.textContent()).toContain('new recipient');
      const file = join(shots, 'popover-calendar-light.png');
      await view.page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
      expect(statSync(file).size).toBeGreaterThan(10_000);
      expect(helper.state().journal ?? []).toEqual([]);
    } finally {
      await view.close();
      await core.close();
    }
  });

  it('an answer to an invitation read earlier names the invitation\'s origin and where the call came from', async () => {
    const core = await startCore({ config: { owner: { emails: ['me@example.com'] } }, calendar: helper.options });
    const view = await openView(browser, core, outDir, 'popover', { colorScheme: 'dark', deviceScaleFactor: 2 });
    try {
      core.fake.enqueue(
        anthropicToolUse('toolu_list', 'list_events', { from: '2026-12-04T00:00:00+00:00', to: '2026-12-05T00:00:00+00:00' }, USAGE),
        anthropicToolUse('toolu_answer', 'respond_to_invitation', { eventId: 'ev-invite', response: 'accepted', title: 'Quarterly sync', organizer: 'organiser@partner.test' }, USAGE),
      );
      expect((await core.backend.invoke('chat.send', { text: "What's on Friday? Accept the quarterly sync." })).ok).toBe(true);
      const [approval] = await core.untilPending(1);
      const card = view.page.locator(`[data-approval-id="${approval?.id}"]`);
      await expect.poll(() => card.count()).toBe(1);
      const rows = (await card.locator('.exact-field').allTextContents()).map(fieldsOf);
      expect(rows).toEqual(['ActionAnswer an invitation: Accept', 'TitleQuarterly sync', 'Mailed toorganiser@partner.test', 'Invitation fromorganiser@partner.test']);
      const text = await card.textContent();
      expect(text).toContain('Untrusted origin');
      expect(text).toContain('calendar invite from Olive Organiser');
      const file = join(shots, 'popover-calendar-invite-dark.png');
      await view.page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
      expect(statSync(file).size).toBeGreaterThan(10_000);
    } finally {
      await view.close();
      await core.close();
    }
  });

  it('settings: Calendar & Contacts deep-link to their Privacy & Security panes', async () => {
    const panes: string[] = [];
    const core = await startCore({ platform: { openSystemPane: (pane) => (panes.push(pane), true) } });
    const view = await openView(browser, core, outDir, 'settings', { query: '?section=channels' });
    try {
      const group = view.page.locator('section, fieldset, div').filter({ has: view.page.getByRole('heading', { name: 'Calendar & Contacts' }) }).last();
      await group.locator('[data-pane="calendars"]').click();
      await group.locator('[data-pane="contacts"]').click();
      await expect.poll(() => panes).toEqual(['calendars', 'contacts']);
    } finally {
      await view.close();
      await core.close();
    }
  });
});
