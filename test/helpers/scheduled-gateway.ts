import { afterAll, afterEach, beforeAll } from 'vitest';
import { compose, type ComposeOptions, type Core } from '../../main/compose.js';
import { Gateway } from '../../main/gateway/gateway.js';
import type { Scheduler } from '../../main/scheduler/scheduler.js';
import { startScheduler } from '../../main/scheduler/service.js';
import { startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from './cli.js';
import { FakeChannel } from './fake-channel.js';
import type { FakeClock } from './fake-clock.js';
import { MemorySecretStore } from './memory-secret-store.js';

/**
 * A gateway with its scheduler, as the app starts them, for the scheduler and scheduled-vector tests: a core composed
 * over a throwaway home and the fake Anthropic API, one fake iMessage channel whose owner is OWNER_PHONE, and the
 * scheduler on a fake clock. Everything a test starts is stopped after it, newest first.
 */

export const OWNER_PHONE = '+15550001111';
export const OWNER_CHAT = `iMessage;-;${OWNER_PHONE}`;

/** Lets the timers a clock step started run (the `tick` of FakeClock.advance). */
export const pause = (ms = 20): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface StartOptions {
  readonly clock: FakeClock;
  /** config.json beside the fake model and the iMessage owner; `schedule.timeZone` defaults to UTC. */
  readonly config?: { readonly schedule?: Record<string, unknown>; readonly [key: string]: unknown };
  /** What else `compose` gets (`scheduleNow`, `calendar`, `platform`, …). */
  readonly compose?: Omit<ComposeOptions, 'env' | 'secrets'>;
}

export interface StartedGateway {
  readonly core: Core;
  readonly channel: FakeChannel;
  readonly scheduler: Scheduler;
  /** The throwaway PAVISE_HOME. */
  readonly home: string;
}

export interface ScheduledGateways {
  /** The fake Anthropic API (started before the file's tests, reset after each). */
  readonly fake: FakeLlmServer;
  start(options: StartOptions): Promise<StartedGateway>;
  /** Runs `stop` after the current test, before what was started earlier. */
  defer(stop: () => Promise<void> | void): void;
}

/** Registers the file's hooks; call once at the top of a test file. */
export function scheduledGateways(): ScheduledGateways {
  let fake: FakeLlmServer | undefined;
  const stops: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterAll(async () => {
    await fake?.close();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    fake?.reset();
  });
  const theFake = (): FakeLlmServer => {
    if (!fake) throw new Error('the fake Anthropic API starts in beforeAll');
    return fake;
  };
  return {
    get fake() {
      return theFake();
    },
    defer: (stop) => void stops.push(stop),
    start: async ({ clock, config = {}, compose: options = {} }) => {
      const { schedule, ...rest } = config;
      const home = tempHome({
        model: { provider: 'anthropic', baseURL: theFake().url },
        ...rest,
        channels: { imessage: { enabled: true, owners: [OWNER_PHONE] } },
        schedule: { timeZone: 'UTC', ...schedule },
      });
      stops.push(home.cleanup);
      const core = await compose({ env: { ...home.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore(), ...options });
      const channel = new FakeChannel('imessage');
      const controller = new AbortController();
      const done = new Gateway(core, { channels: [channel], sweepMs: 50 }).run(controller.signal);
      await channel.ready;
      // As the gateway and the app start it: no calendar passed, the one compose made is used.
      const scheduler = await startScheduler(core, controller.signal, { clock, watchHome: false });
      stops.push(async () => {
        controller.abort();
        await done;
        core.close();
      });
      return { core, channel, scheduler, home: home.home };
    },
  };
}
