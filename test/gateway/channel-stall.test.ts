import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Channel, ChannelHost, SendResult } from '../../main/channels/channel.js';
import { TelegramChannel } from '../../main/channels/telegram/telegram-channel.js';
import { compose } from '../../main/compose.js';
import { ChannelStalledError, ChannelWatchdog } from '../../main/gateway/channel-watchdog.js';
import { Gateway } from '../../main/gateway/gateway.js';
import { startFakeBotApi, TEST_BOT_TOKEN } from '../fakes/fake-bot-api.js';
import { tempHome } from '../helpers/cli.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { until } from '../helpers/wait.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A channel driven by the test: it reports liveness when told, and otherwise waits for its signal. */
class ScriptedChannel implements Channel {
  readonly id = 'imessage' as const;
  runs = 0;
  aborts = 0;
  host: ChannelHost | undefined;
  constructor(private readonly reportsLiveness: boolean) {}
  async run(host: ChannelHost, signal: AbortSignal): Promise<void> {
    this.runs += 1;
    this.host = host;
    if (this.reportsLiveness) host.alive?.('imessage', 20);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    this.aborts += 1;
  }
  async send(): Promise<SendResult> {
    return { ok: true, externalIds: [] };
  }
}

const noopHost: ChannelHost = { deliver: async () => undefined, cursor: () => undefined, saveCursor: () => undefined, status: () => undefined };

describe('a stalled channel is restarted', () => {
  it('the watchdog aborts a run that misses its own liveness promise, and ignores one that never promised', async () => {
    const watchdog = new ChannelWatchdog({ graceMs: 30, now: Date.now });
    const silent = new ScriptedChannel(false);
    const outer = new AbortController();
    const quiet = watchdog.run(silent, noopHost, outer.signal);
    await sleep(200);
    expect(silent.aborts).toBe(0);
    outer.abort();
    await quiet;
    expect(silent.aborts).toBe(1);

    const stalling = new ScriptedChannel(true);
    const started = Date.now();
    await expect(watchdog.run(stalling, noopHost, new AbortController().signal)).rejects.toBeInstanceOf(ChannelStalledError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(stalling.aborts).toBe(1);
    const liveness = watchdog.liveness('imessage');
    expect(liveness && liveness.dueBy - liveness.lastAliveAt).toBe(50);
    // The abandoned run waking late must not move the watch of the next run.
    stalling.host?.alive?.('imessage', 60_000);
    expect(watchdog.liveness('imessage')).toEqual(liveness);
  });

  it('restarts Telegram when getUpdates hangs on the fake Bot API, tells the owner, and polling resumes', async () => {
    const bot = await startFakeBotApi();
    cleanups.push(() => bot.close());
    const home = tempHome({ channels: { telegram: { enabled: true, owners: ['42'] } } });
    cleanups.push(home.cleanup);
    const core = await compose({ env: home.env, secrets: new MemorySecretStore(), loadProviderAtFirstCall: true });
    const alerts: string[] = [];
    core.events.on('alert', (message) => alerts.push(message));
    // grammY's own request timeout is pollTimeoutSeconds + 15 s: the watchdog must act long before it.
    const telegram = new TelegramChannel({ token: async () => TEST_BOT_TOKEN, apiRoot: bot.apiRoot, assistantNames: ['pavise'], pollTimeoutSeconds: 1, retry: { baseDelayMs: 20, maxDelayMs: 200 } });
    const controller = new AbortController();
    const gateway = new Gateway(core, { channels: [telegram], sweepMs: 50, channelRestartDelaysMs: [20], channelStallGraceMs: 500 });
    bot.script('getUpdates', { kind: 'hang' });
    const started = Date.now();
    const done = gateway.run(controller.signal);
    cleanups.push(async () => {
      controller.abort();
      await done;
      core.close();
    });
    await until(() => alerts.length > 0, 'the owner is told of the stall', { timeoutMs: 10_000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(alerts[0]).toMatch(/^telegram stopped \(it stalled: no poll finished for \d+ s\); restarting it in 0 s\.$/);
    expect(core.activity.list({ limit: 20 }).some((row) => row.summary.startsWith('telegram stopped (it stalled'))).toBe(true);
    await until(() => gateway.statuses()[0]?.state === 'connected', 'connected again after the restart', { timeoutMs: 10_000 });
    const before = bot.callsTo('getUpdates').length;
    expect(before).toBeGreaterThanOrEqual(2);
    bot.queueUpdates({ update_id: 900 });
    await until(() => bot.pendingUpdates().length === 0, 'the new update is read and confirmed', { timeoutMs: 10_000 });
    const [health] = gateway.health();
    expect(health).toMatchObject({ channel: 'telegram', state: 'connected' });
    expect(health?.lastAliveAt).toBeGreaterThan(started);
    expect((health?.dueBy ?? 0) - (health?.lastAliveAt ?? 0)).toBe(1_000 + 500);
  }, 30_000);
});
