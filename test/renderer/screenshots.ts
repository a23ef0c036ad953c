/**
 * `npm run screenshots` (scripts/screenshots.mjs bundles and runs this): PNGs of the real renderer against a real
 * core, light and dark, at device scale 2, into docs/screenshots/. Every state is reached through the core — the
 * approval through the gate, the pairing request through the gateway, spend from the model's usage.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { Gateway } from '../../main/gateway/gateway.js';
import { anthropicText, anthropicToolUse, slowly } from '../fakes/fake-anthropic-server.js';
import { FakeChannel } from '../helpers/fake-channel.js';
import { launchBrowser, openView, ROOT, startCore, type Core, type View } from './bridge.js';
import { commandTool, seedDay, seedMemories, USAGE, webTool, webToImessage, type Execution } from './scenarios.js';

const OUT = join(ROOT, 'docs/screenshots');
const build = process.argv[2] ?? join(ROOT, 'dist/renderer');
const SCHEMES = ['light', 'dark'] as const;
type Scheme = (typeof SCHEMES)[number];

async function shoot(views: Record<Scheme, View>, name: string): Promise<void> {
  for (const scheme of SCHEMES) {
    const { page } = views[scheme];
    // Let entrance animations finish; screenshots show the resting state.
    await page.waitForTimeout(250);
    const file = join(OUT, `${name}-${scheme}.png`);
    await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
    process.stdout.write(`screenshots: ${file}\n`);
  }
}

async function open(browser: Browser, core: Core, view: 'popover' | 'settings', query = ''): Promise<Record<Scheme, View>> {
  const [light, dark] = await Promise.all(SCHEMES.map((colorScheme) => openView(browser, core, build, view, { colorScheme, deviceScaleFactor: 2, query })));
  return { light: light as View, dark: dark as View };
}

async function closeAll(views: Record<Scheme, View>): Promise<void> {
  await Promise.all(SCHEMES.map((scheme) => views[scheme].close()));
}

function showOwnersModelSettings(core: Core): void {
  const path = join(core.home, 'config.json');
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  writeFileSync(path, JSON.stringify({ ...config, model: { provider: 'anthropic', name: 'claude-sonnet-5' } }, null, 2));
}

/** What an owner's Files & Web, Mail and Home panes hold: granted folders, one account, Home Assistant, two scenes. */
async function showHandsSettings(core: Core): Promise<void> {
  const result = await core.backend.invoke('settings.update', {
    folders: [
      { path: '~/Documents/Pavise', access: 'read-write' },
      { path: '~/Downloads', access: 'read' },
    ],
    httpHosts: ['printer.local'],
    mailAccounts: [
      { id: 'personal', address: 'alex.morgan@fastmail.com', name: 'Alex Morgan', imap: { host: 'imap.fastmail.com', port: 993, tls: 'implicit' }, smtp: { host: 'smtp.fastmail.com', port: 465, tls: 'implicit' } },
    ],
    homeAssistantUrl: 'http://homeassistant.local:8123',
    shortcuts: ['Good Night', 'Movie Time'],
  });
  if (!result.ok) throw new Error(result.message);
  await core.secrets.set('mail-personal', 'screenshot-placeholder');
  await core.secrets.set('home-assistant', 'screenshot-placeholder');
}

/** Reminders (one paused) and an alert, made through the same functions the pane and the CLI use. */
async function seedSchedule(core: Core): Promise<void> {
  const scheduling = core.services.scheduling;
  await scheduling.remindOwner('renew the passport', 'in 3 hours');
  const stretch = await scheduling.remindOwner('stretch and drink some water', 'weekdays at 15:00');
  await scheduling.setPaused(stretch.id, true);
  scheduling.addAlert({ rule: 'message_from', who: 'Trattoria Roma' }, { cooldownMinutes: 60 }, core.services.sessions.current('local', false));
  scheduling.addAlert({ rule: 'calendar_change', day: 'tomorrow' }, {}, core.services.sessions.current('local', false));
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const executions: Execution[] = [];
  const imessage = new FakeChannel('imessage');
  const telegram = new FakeChannel('telegram');
  let gateway: Gateway | undefined;
  const core = await startCore({
    config: {
      channels: {
        imessage: { enabled: true, owners: ['+15550009876', 'alex.morgan@icloud.com'] },
        telegram: { enabled: true, owners: ['51234567'] },
      },
    },
    extraTools: [commandTool(executions), webTool()],
    platform: {
      channelStatuses: () => gateway?.statuses() ?? [],
      fullDiskAccess: () => 'granted',
      openSystemPane: () => true,
      getOpenAtLogin: () => true,
    },
    approvalPollMs: 200,
  });
  await core.secrets.set('anthropic', 'FAKE-screenshot-key');
  await core.secrets.set('telegram-bot-token', '000000:screenshot-placeholder');
  gateway = new Gateway(core.services, { channels: [imessage, telegram], sweepMs: 100 });
  const controller = new AbortController();
  const running = gateway.run(controller.signal);
  await Promise.all([imessage.ready, telegram.ready]);
  const browser = await launchBrowser();
  try {
    await seedDay(core);

    let views = await open(browser, core, 'popover');
    await Promise.all(SCHEMES.map((scheme) => views[scheme].page.locator('.recent-row').first().waitFor()));
    await shoot(views, 'popover-idle');

    await webToImessage(core);
    await Promise.all(SCHEMES.map((scheme) => views[scheme].page.locator('[data-approval-id]').first().waitFor()));
    await shoot(views, 'popover-approval');

    // Approved in the popover: the message goes out through the outbox; the model answers.
    core.fake.enqueue(anthropicText('Sent. I’ll tell you when Trattoria Roma replies.', USAGE));
    let done = core.nextChatDone();
    await views.light.page.getByRole('button', { name: 'Approve' }).click();
    await done;
    await closeAll(views);

    views = await open(browser, core, 'popover');
    await views.light.page.locator('.msg').first().waitFor();
    core.fake.enqueue(
      anthropicToolUse('toolu_notes', 'list_notes', {}, USAGE),
      slowly(
        anthropicText(
          [
            'Two things on your list: ',
            'renew your passport before the June trip, ',
            'and book a table for Mum’s birthday on Saturday the 12th. ',
            'Want me to look for a table?',
          ],
          USAGE,
        ),
        40,
      ),
    );
    done = core.nextChatDone();
    const composer = views.light.page.getByRole('textbox', { name: 'Message Pavise' });
    await composer.fill('What’s on my list this week?');
    await composer.press('Enter');
    await done;
    await Promise.all(SCHEMES.map((scheme) => views[scheme].page.locator('.msg-assistant:not([data-streaming])').last().waitFor()));
    await shoot(views, 'popover-chat');
    await closeAll(views);

    // A stranger writes on Telegram: the gateway files a pairing request for Settings › Channels.
    await telegram.receive({ sender: '70011223', senderName: 'Jordan Lee', text: 'hey, is this Alex?', conversationId: '70011223' });
    await core.untilPending(1);

    // From here on no model is called: show the model settings an owner would have, not the fake server's URL.
    showOwnersModelSettings(core);
    views = await open(browser, core, 'settings', '?section=general');
    await Promise.all(SCHEMES.map((scheme) => views[scheme].page.locator('#model-name').waitFor()));
    await shoot(views, 'settings-general');
    await closeAll(views);

    views = await open(browser, core, 'settings', '?section=channels');
    for (const scheme of SCHEMES) {
      const { page } = views[scheme];
      await page.locator('.pairing-request').waitFor();
      await page.getByRole('button', { name: /^Pair/ }).click();
      await page.locator('.pairing-code').waitFor();
      // Show Telegram, the pairing code and the waiting request (iMessage is above).
      await page.getByRole('heading', { name: 'Telegram' }).evaluate((heading) => heading.scrollIntoView({ block: 'start' }));
    }
    await shoot(views, 'settings-channels');
    await closeAll(views);

    seedMemories(core.services);
    views = await open(browser, core, 'settings', '?section=memory');
    await Promise.all(SCHEMES.map((scheme) => views[scheme].page.locator('.memory-item').first().waitFor()));
    await shoot(views, 'settings-memory');
    await closeAll(views);

    views = await open(browser, core, 'settings', '?section=activity');
    for (const scheme of SCHEMES) {
      const { page } = views[scheme];
      await page.locator('.table tbody tr').first().waitFor();
      await page.getByRole('button', { name: 'Verify log' }).click();
      await page.locator('.verify').waitFor();
    }
    await shoot(views, 'settings-activity');
    await closeAll(views);

    await showHandsSettings(core);
    for (const section of ['files', 'mail', 'home'] as const) {
      views = await open(browser, core, 'settings', `?section=${section}`);
      await Promise.all(SCHEMES.map((scheme) => views[scheme].page.locator('.group').first().waitFor()));
      await shoot(views, `settings-${section}`);
      await closeAll(views);
    }

    // Last, so the popover's "Next up" above is unchanged: what an owner has scheduled, and a reminder being added.
    await seedSchedule(core);
    views = await open(browser, core, 'settings', '?section=schedules');
    for (const scheme of SCHEMES) {
      const { page } = views[scheme];
      await page.locator('tr[data-job-id]').first().waitFor();
      await page.getByLabel('Remind me to', { exact: true }).fill('book a table for Mum’s birthday');
      await page.getByLabel('When', { exact: true }).fill('tomorrow at 10');
      const hint = page.locator('#reminder-when-hint');
      await hint.filter({ hasNotText: 'A time in words' }).waitFor();
      if (!(await hint.textContent())?.startsWith('At:')) throw new Error(`the time was not read: ${await hint.textContent()}`);
    }
    await shoot(views, 'settings-schedules');
    await closeAll(views);
  } finally {
    await browser.close();
    controller.abort();
    await running;
    await core.close();
  }
}

await main();
