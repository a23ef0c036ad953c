import { afterAll, afterEach, beforeAll } from 'vitest';
import { compose, type Core } from '../../main/compose.js';
import { Gateway } from '../../main/gateway/gateway.js';
import { startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from './cli.js';
import { FakeChannel } from './fake-channel.js';
import { MemorySecretStore } from './memory-secret-store.js';

/**
 * A running gateway on a Mac (platform darwin) with one fake iMessage channel whose owner is `owner`, over a throwaway
 * home and the fake Anthropic API: for tests of what the gateway stores and answers. Everything a test starts is
 * stopped after it. (scheduled-gateway.ts is the same with the scheduler, on a fake clock.)
 */
export interface ImessageGateways {
  /** The fake Anthropic API (started before the file's tests, reset after each). */
  readonly llm: FakeLlmServer;
  /** `config` goes into config.json beside the fake model and the iMessage owner. */
  start(config?: Record<string, unknown>): Promise<{ services: Core; channel: FakeChannel }>;
}

/** Registers the file's hooks; call once at the top of a test file. */
export function imessageGateways(owner: string): ImessageGateways {
  let llm: FakeLlmServer | undefined;
  const stops: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    llm = await startFakeAnthropic();
  });
  afterAll(async () => {
    await llm?.close();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    llm?.reset();
  });
  const theLlm = (): FakeLlmServer => {
    if (!llm) throw new Error('the fake Anthropic API starts in beforeAll');
    return llm;
  };
  return {
    get llm() {
      return theLlm();
    },
    start: async (config = {}) => {
      const home = tempHome({
        model: { provider: 'anthropic', baseURL: theLlm().url },
        channels: { imessage: { enabled: true, owners: [owner] }, telegram: { enabled: false } },
        ...config,
      });
      const services = await compose({ env: { ...home.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore(), approvalPollMs: 20 });
      const channel = new FakeChannel('imessage');
      const controller = new AbortController();
      const done = new Gateway(services, { channels: [channel], sweepMs: 20, platform: 'darwin' }).run(controller.signal);
      await channel.ready;
      stops.push(async () => {
        controller.abort();
        await done;
        services.close();
        home.cleanup();
      });
      return { services, channel };
    },
  };
}
