import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalView } from '../../main/common/approvals.js';
import { anthropicToolUse } from '../fakes/fake-anthropic-server.js';
import { buildRenderer, launchBrowser, openView, removeBuild, startCore } from './bridge.js';
import { RESTAURANT_URL, USAGE, webTool } from './scenarios.js';

/**
 * Failure 7: the save-note card showed the first 80 characters; the hidden rest carried a phone number that later
 * came back as the owner's. The card shows the whole note: the number at the end of 2,000 characters is on it.
 */
const NUMBER = '+44 7700 900123';
const TAIL = `Owner's new number: ${NUMBER}`;
const NOTE = `${'Dinner plans and the usual shopping list, nothing to see here. '.repeat(40).slice(0, 2_000 - TAIL.length)}${TAIL}`;

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

describe('popover: an approval card shows the complete content', () => {
  it('a 2,000-character note with a phone number at its end shows the number, scrollable and never cut', async () => {
    const core = await startCore({ extraTools: [webTool()] });
    const view = await openView(browser, core, outDir, 'popover');
    try {
      expect(NOTE).toHaveLength(2_000);
      core.fake.enqueue(
        anthropicToolUse('toolu_web', 'fetch_web', { url: RESTAURANT_URL }, USAGE),
        anthropicToolUse('toolu_note', 'save_note', { text: NOTE }, USAGE),
      );
      const result = await core.backend.invoke('chat.send', { text: `Read ${RESTAURANT_URL} and note what matters` });
      expect(result.ok).toBe(true);
      const approval = (await core.untilPending(1)).at(-1) as ApprovalView;
      expect(approval.tool).toBe('save_note');

      const card = view.page.locator(`[data-approval-id="${approval.id}"]`);
      await expect.poll(() => card.count()).toBe(1);
      const quote = card.locator('blockquote');
      const shown = (await quote.textContent()) ?? '';
      expect(shown).toContain(NOTE);
      expect(shown).toContain(NUMBER);
      expect(await card.textContent()).not.toContain('…');
      // Longer than the block: it scrolls inside the card, and scrolled to its end the number is in view.
      const scroll = await quote.evaluate((element) => {
        const box = element as { scrollTop: number; scrollHeight: number; clientHeight: number };
        box.scrollTop = box.scrollHeight;
        return { top: box.scrollTop, height: box.scrollHeight, client: box.clientHeight };
      });
      expect(scroll.height).toBeGreaterThan(scroll.client);
      expect(scroll.top + scroll.client).toBeGreaterThanOrEqual(scroll.height - 1);
      expect(await card.getByRole('heading', { level: 2 }).textContent()).toBe('Save a note');
    } finally {
      await view.close();
      await core.close();
    }
  });
});
