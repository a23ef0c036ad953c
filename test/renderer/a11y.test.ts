import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicText, anthropicToolUse } from '../fakes/fake-anthropic-server.js';
import { buildRenderer, launchBrowser, openView, removeBuild, startCore, type Core } from './bridge.js';
import { commandApproval, commandTool, RESTAURANT_URL, seedDay, seedMemories, USAGE, webTool } from './scenarios.js';
import { ask } from '../helpers/ask.js';

/*
 * axe-core over the built popover and settings window, light and dark, in real states (approval cards from the
 * gate, an error in place, validation errors, the activity table). No serious or critical violation is allowed,
 * colour contrast included.
 */

let outDir: string;
let browser: Browser;
/** Shared by the settings checks (they only read); each popover check gets its own core. */
let core: Core;
const cores: Core[] = [];

async function seededCore(): Promise<Core> {
  const made = await startCore({
    extraTools: [commandTool([]), webTool()],
    config: { channels: { imessage: { enabled: true, owners: ['+15550009876'] } } },
    platform: { channelStatuses: () => [{ channel: 'imessage', state: 'connected' }], fullDiskAccess: () => 'denied' },
  });
  cores.push(made);
  await seedDay(made);
  seedMemories(made.services);
  return made;
}

beforeAll(async () => {
  outDir = buildRenderer();
  browser = await launchBrowser();
  core = await seededCore();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  for (const made of cores) await made.close();
  if (outDir) removeBuild(outDir);
});

interface Finding {
  readonly id: string;
  readonly impact: string | null | undefined;
  readonly help: string;
  readonly targets: string[];
}

async function seriousViolations(page: Page): Promise<Finding[]> {
  // Entrance animations end first: contrast is judged at rest.
  await page.waitForTimeout(250);
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({ id: violation.id, impact: violation.impact, help: violation.help, targets: violation.nodes.map((node) => node.target.join(' ')) }));
}

const SCHEMES = ['light', 'dark'] as const;

describe.each(SCHEMES)('accessibility (%s)', (colorScheme) => {
  it('popover: idle, with recent activity and the status row', async () => {
    const view = await openView(browser, await seededCore(), outDir, 'popover', { colorScheme });
    try {
      await view.page.locator('.recent-row').first().waitFor();
      expect(await seriousViolations(view.page)).toEqual([]);
    } finally {
      await view.close();
    }
  });

  it('popover: approval cards (untrusted origin, argv, an error in place) and a paused banner', async () => {
    const core = await seededCore();
    const view = await openView(browser, core, outDir, 'popover', { colorScheme });
    try {
      const command = await commandApproval(core, ['git', 'push', '--force', 'origin', 'main']);
      // A second waiting turn, in its own session.
      core.fake.enqueue(anthropicToolUse('toolu_web', 'fetch_web', { url: RESTAURANT_URL }, USAGE), anthropicToolUse('toolu_book', 'send_message', { channel: 'imessage', to: '+14155550134', text: 'Table for two, Thursday 7 pm, please.' }, USAGE));
      void ask(core.services, core.services.sessions.create('local').id, `Book Trattoria Roma by iMessage, see ${RESTAURANT_URL}`);
      await core.untilPending(2);
      await view.page.locator('[data-approval-id]').nth(1).waitFor();
      expect(await seriousViolations(view.page)).toEqual([]);

      core.services.approvals.expireStale(Date.now() + 11 * 60_000);
      await view.page.locator(`[data-approval-id="${command.id}"]`).getByRole('button', { name: 'Approve' }).click();
      await view.page.getByRole('alert').first().waitFor();
      await view.page.getByRole('switch', { name: 'Pause Pavise' }).click();
      await view.page.getByRole('status').filter({ hasText: 'Paused.' }).waitFor();
      expect(await seriousViolations(view.page)).toEqual([]);
    } finally {
      await view.close();
    }
  });

  it('popover: a conversation', async () => {
    const core = await seededCore();
    const view = await openView(browser, core, outDir, 'popover', { colorScheme });
    try {
      core.fake.enqueue(anthropicText('Your next meeting is at 3 pm with the design team.', USAGE));
      const done = core.nextChatDone();
      const composer = view.page.getByRole('textbox', { name: 'Message Pavise' });
      await composer.fill('When is my next meeting?');
      await composer.press('Enter');
      await done;
      await view.page.locator('.msg-assistant').last().waitFor();
      expect(await seriousViolations(view.page)).toEqual([]);
    } finally {
      await view.close();
    }
  });

  it.each(['general', 'channels', 'limits', 'activity', 'skills', 'memory', 'files', 'mail', 'home', 'schedules'])('settings: %s', async (section) => {
    if (section === 'schedules' && core.services.jobs.list().length === 0) {
      await core.services.scheduling.remindOwner('call the plumber', 'in 2 hours');
      const stretch = await core.services.scheduling.remindOwner('stretch', 'weekdays at 15:00');
      await core.services.scheduling.setPaused(stretch.id, true);
    }
    const view = await openView(browser, core, outDir, 'settings', { colorScheme, query: `?section=${section}` });
    try {
      const { page } = view;
      await page.getByRole('heading', { level: 1 }).waitFor();
      if (section === 'general') await page.getByRole('textbox', { name: 'Model' }).waitFor();
      if (section === 'channels') {
        await page.getByRole('button', { name: 'Pair my Telegram account' }).click();
        await page.getByLabel('One-time pairing code').waitFor();
      }
      if (section === 'limits') {
        await page.getByLabel('Daily spend cap').fill('5000');
        await page.getByRole('button', { name: 'Save' }).click();
        await page.locator('.row-error').first().waitFor();
      }
      if (section === 'memory') {
        await page.locator('.memory-item').first().waitFor();
        await page.getByRole('button', { name: /^Forget memory/ }).first().click();
        await page.getByRole('button', { name: 'Keep' }).waitFor();
      }
      if (section === 'schedules') {
        // A paused row, an open editor, and a time that cannot be read.
        await page.getByRole('button', { name: 'Edit call the plumber' }).click();
        await page.getByLabel('When', { exact: true }).fill('when pigs fly');
        await page.locator('#reminder-when-hint[role=alert]').waitFor();
      }
      if (section === 'activity') {
        await page.locator('.table tbody tr').first().waitFor();
        await page.getByRole('button', { name: 'Verify log' }).click();
        await page.locator('.verify').waitFor();
      }
      expect(await seriousViolations(page)).toEqual([]);
    } finally {
      await view.close();
    }
  });
});
