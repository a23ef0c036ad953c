import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelHost } from '../../main/channels/channel.js';
import { compose } from '../../main/compose.js';
import { Gateway } from '../../main/gateway/gateway.js';
import { restartWithBackoff } from '../../main/platform/restart-with-backoff.js';
import { tempHome } from '../helpers/cli.js';
import { FakeChannel } from '../helpers/fake-channel.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { until } from '../helpers/wait.js';

/** A channel whose first runs crash, as a channel whose client library throws out of its loop would. */
class CrashingChannel extends FakeChannel {
  runs = 0;
  constructor(private readonly crashes: number) {
    super('telegram');
  }

  override async run(host: ChannelHost, signal: AbortSignal): Promise<void> {
    this.runs += 1;
    if (this.runs <= this.crashes) throw new Error(`poll loop died (${this.runs})`);
    return super.run(host, signal);
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('a channel that stops is restarted', () => {
  it('restarts a crashed channel with backoff, tells the owner once, and its messages flow again', async () => {
    const home = tempHome({ channels: { telegram: { enabled: true, owners: ['42'] } } });
    cleanups.push(home.cleanup);
    const core = await compose({ env: home.env, secrets: new MemorySecretStore(), loadProviderAtFirstCall: true });
    const alerts: string[] = [];
    core.events.on('alert', (message) => alerts.push(message));
    const channel = new CrashingChannel(2);
    const controller = new AbortController();
    const gateway = new Gateway(core, { channels: [channel], sweepMs: 50, channelRestartDelaysMs: [20, 40] });
    const done = gateway.run(controller.signal);
    cleanups.push(async () => {
      controller.abort();
      await done;
      core.close();
    });
    await channel.ready;
    expect(channel.runs).toBe(3);
    await until(() => gateway.statuses()[0]?.state === 'connected', 'connected after the restarts');
    expect(alerts).toEqual(['telegram stopped (poll loop died (1)); restarting it in 0 s.']);
    expect(core.activity.list({ limit: 50 }).filter((row) => row.summary.startsWith('telegram stopped'))).toHaveLength(2);
  });

  it('grows the delay, resets it after a healthy run, stops on abort, and gives up on a fatal error', async () => {
    const controller = new AbortController();
    const delays: number[] = [];
    let clock = 0;
    let calls = 0;
    await restartWithBackoff(
      async () => {
        calls += 1;
        clock += calls === 3 ? 1_000 : 1;
        if (calls === 5) controller.abort();
        else throw new Error('boom');
      },
      controller.signal,
      { delaysMs: [1, 2, 3], healthyAfterMs: 500, now: () => clock, onRestart: (_reason, delay) => delays.push(delay) },
    );
    expect(delays).toEqual([1, 2, 1, 2]);
    const fatal = new Error('locked');
    await expect(restartWithBackoff(() => Promise.reject(fatal), new AbortController().signal, { isFatal: (error) => error === fatal })).rejects.toBe(fatal);
  });
});
