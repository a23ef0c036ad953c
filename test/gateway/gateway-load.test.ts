import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, MAX_CONCURRENT_CONVERSATIONS } from '../../main/gateway/gateway.js';
import { compose, type Core } from '../../main/compose.js';
import { anthropicText, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from '../helpers/cli.js';
import { FakeChannel } from '../helpers/fake-channel.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { until } from '../helpers/wait.js';

/**
 * A burst from many conversations at once (what a chat.db backlog delivers): the gateway must not start a turn for
 * every conversation at the same time, must keep each conversation in order, and must let go of its queues.
 */
const OWNERS = Array.from({ length: 3 * MAX_CONCURRENT_CONVERSATIONS }, (_, i) => `+1555010${String(i).padStart(4, '0')}`);
const PER_CONVERSATION = 3;

let fake: FakeLlmServer;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  fake.reset();
});

async function start(options: { maxQueuedMessages?: number } = {}): Promise<{ services: Core; channel: FakeChannel; gateway: Gateway }> {
  const home = tempHome({
    model: { provider: 'anthropic', baseURL: fake.url },
    limits: { pacing: { perRecipientPerMinute: 10, perRecipientPerHour: 60, overallPerHour: 150 } },
    channels: { imessage: { enabled: true, owners: OWNERS } },
  });
  const services = await compose({ env: { ...home.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore() });
  const channel = new FakeChannel('imessage');
  const gateway = new Gateway(services, { channels: [channel], sweepMs: 50, ...options });
  const controller = new AbortController();
  const done = gateway.run(controller.signal);
  await channel.ready;
  cleanups.push(async () => {
    controller.abort();
    await done;
    services.close();
    home.cleanup();
  });
  return { services, channel, gateway };
}

describe('gateway under a burst', () => {
  it(`runs at most ${MAX_CONCURRENT_CONVERSATIONS} conversations at once, answers each in order, and releases its queues`, async () => {
    const { services, channel, gateway } = await start();
    let inFlight = 0;
    let maxInFlight = 0;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    fake.respondWith(async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await released;
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return anthropicText('ok');
    });
    // The whole burst is stored before any of it is handled, as a chat.db batch is.
    const burst = OWNERS.flatMap((sender) => Array.from({ length: PER_CONVERSATION }, (_, n) => ({ sender, text: `${sender} #${n}` })));
    await Promise.all(burst.map((message) => channel.receive(message)));
    // With every model call held, the slots fill up and no further turn starts.
    await until(() => inFlight === MAX_CONCURRENT_CONVERSATIONS, 'every slot to be busy');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(inFlight).toBe(MAX_CONCURRENT_CONVERSATIONS);
    release();
    const total = burst.length;
    await until(() => channel.sent.length === total, 'every reply', { timeoutMs: 30_000 });

    expect(maxInFlight).toBe(MAX_CONCURRENT_CONVERSATIONS);
    for (const sender of OWNERS) {
      const stored = services.channels.messages('imessage', `iMessage;-;${sender}`);
      expect(stored.map((message) => [message.text, message.status])).toEqual(
        Array.from({ length: PER_CONVERSATION }, (_, n) => [`${sender} #${n}`, 'answered']),
      );
      // Each reply answers the next message of that conversation: ids rise in the order the replies were queued.
      const replyIds = services.outbox
        .list(1000)
        .filter((entry) => entry.conversationId === `iMessage;-;${sender}`)
        .sort((a, b) => a.id - b.id)
        .map((entry) => Number(entry.idempotencyKey.slice('reply:'.length)));
      expect(replyIds).toEqual(stored.map((message) => message.id));
    }
    await until(() => gateway.load().running === 0, 'the last slot to be released');
    expect(gateway.load()).toEqual({ queued: 0, running: 0, conversations: 0 });
  });

  it('does not queue a message twice when the backlog sweep runs during a burst', async () => {
    const { services, channel, gateway } = await start();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    fake.respondWith(async () => {
      await held;
      return anthropicText('ok');
    });
    for (const sender of OWNERS) await channel.receive({ sender, text: 'hello' });
    // Several sweeps (every 50 ms) pass while every slot is busy and the rest wait.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(gateway.load()).toEqual({ queued: OWNERS.length, running: MAX_CONCURRENT_CONVERSATIONS, conversations: OWNERS.length });
    release();
    await until(() => channel.sent.length === OWNERS.length, 'every reply', { timeoutMs: 30_000 });
    expect(fake.requests).toHaveLength(OWNERS.length);
    expect(services.channels.unhandled()).toEqual([]);
  });

  it('keeps at most maxQueuedMessages ids in memory, reads the rest back from the database in order, and loses none', async () => {
    const MAX_QUEUED = 5;
    const { services, channel, gateway } = await start({ maxQueuedMessages: MAX_QUEUED });
    const queuedAtEachCall: number[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    fake.respondWith(async () => {
      queuedAtEachCall.push(gateway.load().queued);
      await held;
      return anthropicText('ok');
    });
    const burst = OWNERS.flatMap((sender) => Array.from({ length: PER_CONVERSATION }, (_, n) => ({ sender, text: `${sender} #${n}` })));
    await Promise.all(burst.map((message) => channel.receive(message)));
    // Everything is stored; only MAX_QUEUED of it is queued, and the sweep (every 50 ms) does not add more.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(services.channels.unhandled()).toHaveLength(burst.length);
    expect(gateway.load().queued).toBe(MAX_QUEUED);
    release();
    await until(() => channel.sent.length === burst.length, 'every reply', { timeoutMs: 30_000 });

    expect(queuedAtEachCall).toHaveLength(burst.length);
    expect(Math.max(...queuedAtEachCall)).toBeLessThanOrEqual(MAX_QUEUED);
    for (const sender of OWNERS) {
      const stored = services.channels.messages('imessage', `iMessage;-;${sender}`);
      expect(stored.map((message) => [message.text, message.status])).toEqual(
        Array.from({ length: PER_CONVERSATION }, (_, n) => [`${sender} #${n}`, 'answered']),
      );
      const replyIds = services.outbox
        .list(1000)
        .filter((entry) => entry.conversationId === `iMessage;-;${sender}`)
        .sort((a, b) => a.id - b.id)
        .map((entry) => Number(entry.idempotencyKey.slice('reply:'.length)));
      expect(replyIds).toEqual(stored.map((message) => message.id));
    }
    await until(() => gateway.load().running === 0, 'the last slot to be released');
    expect(gateway.load()).toEqual({ queued: 0, running: 0, conversations: 0 });
  });

  it('refuses a queue limit that is not a positive integer, saying what it must be', async () => {
    const { services } = await start();
    expect(() => new Gateway(services, { channels: [], maxQueuedMessages: 0.5 })).toThrow('maxQueuedMessages must be a positive integer, not 0.5.');
  });

  it('refuses a concurrency limit that is not a positive integer, saying what it must be', async () => {
    const { services } = await start();
    expect(() => new Gateway(services, { channels: [], maxConcurrentConversations: 0 })).toThrow(
      'maxConcurrentConversations must be a positive integer, not 0.',
    );
  });
});
