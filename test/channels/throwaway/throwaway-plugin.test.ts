import { z } from 'zod';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelId } from '../../../main/channels/channel.js';
import type { ChannelPlugin } from '../../../main/channels/plugin.js';
import { CHANNEL_PLUGINS, createChannels } from '../../../main/channels/registry.js';
import { Gateway } from '../../../main/gateway/gateway.js';
import { compose } from '../../../main/compose.js';
import { anthropicText, startFakeAnthropic, type FakeLlmServer } from '../../fakes/fake-anthropic-server.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from '../../helpers/cli.js';
import { FakeChannel } from '../../helpers/fake-channel.js';
import { MemorySecretStore } from '../../helpers/memory-secret-store.js';
import { until } from '../../helpers/wait.js';

/*
 * A channel Pavise does not ship, added the way a new channel is: one plugin, put into the registration list (here
 * through createChannels' injection point). Nothing else in main/ knows about it, yet a message goes in through the
 * gateway and the reply comes out of the same channel.
 */

// The id is outside the shipped list on purpose; ChannelId names the shipped ones.
const THROWAWAY = 'throwaway' as ChannelId;
const OWNER = 'owner-42';

const created: FakeChannel[] = [];
const throwawayPlugin: ChannelPlugin<{ enabled: boolean; owners: string[]; maxAgeMinutes: number; greeting: string }> = {
  id: THROWAWAY,
  displayName: 'Throwaway',
  configSchema: z.strictObject({
    enabled: z.boolean().default(false),
    owners: z.array(z.string()).default([]),
    maxAgeMinutes: z.int().min(1).default(60),
    greeting: z.string().default('hello'),
  }),
  create: () => {
    const channel = new FakeChannel(THROWAWAY);
    created.push(channel);
    return channel;
  },
  canonicalHandle: (handle) => handle.trim().toLowerCase(),
  describeTarget: (target) => `room ${target}`,
};

let fake: FakeLlmServer;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  created.splice(0);
  fake.reset();
});

describe('a channel plugin added through the registration list', () => {
  it('carries a message in and the reply out, end to end through the gateway', async () => {
    const home = tempHome({ model: { provider: 'anthropic', baseURL: fake.url } });
    const env = { ...home.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY };
    const services = await compose({ env, secrets: new MemorySecretStore() });
    // Its section sits in config.channels, parsed by its own schema, as config.json's sections do (config.json's
    // schema only knows the shipped channels); the shipped channels stay disabled.
    Object.assign(services.config.channels, { [THROWAWAY]: throwawayPlugin.configSchema.parse({ enabled: true }) });
    const channels = createChannels(services, env, [...CHANNEL_PLUGINS, throwawayPlugin]);
    expect(channels.map((channel) => channel.id)).toEqual([THROWAWAY]);
    const [channel] = created as [FakeChannel];
    // Owners of a new channel come from pairing, like a paired Telegram account.
    services.channels.addIdentity(THROWAWAY, OWNER, 'owner', 'test');

    const gateway = new Gateway(services, { channels, log: () => {}, sweepMs: 50 });
    const controller = new AbortController();
    const done = gateway.run(controller.signal);
    stops.push(async () => {
      controller.abort();
      await done;
      services.close();
      home.cleanup();
    });

    fake.enqueue(anthropicText('Hello from the other side.'));
    await channel.receive({ sender: OWNER, text: 'are you there?', conversationId: 'room-1' });
    await until(() => channel.sent.length === 1, 'the reply');
    expect(channel.sent[0]).toMatchObject({ conversationId: 'room-1', text: 'Hello from the other side.' });
    expect(JSON.stringify(fake.lastRequest.body)).toContain('are you there?');
    expect(services.channels.messages(THROWAWAY, 'room-1').map((message) => [message.text, message.status, message.role])).toEqual([
      ['are you there?', 'answered', 'owner'],
    ]);
  });

  it('is not created while its section is disabled, and a bad section is refused with the field named', async () => {
    const services = { config: { channels: { assistantNames: ['pavise'], [THROWAWAY]: { enabled: false } } }, secrets: new MemorySecretStore() };
    expect(createChannels(services, {}, [throwawayPlugin])).toEqual([]);
    const bad = { ...services, config: { channels: { assistantNames: ['pavise'], [THROWAWAY]: { enabled: true, greeting: 7 } } } };
    expect(() => createChannels(bad, {}, [throwawayPlugin])).toThrow(/channels\.throwaway in config\.json is invalid: greeting/);
  });
});
