import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelId } from '../../main/channels/channel.js';
import { ZERO_USAGE } from '../../main/common/messages.js';
import { compose, type Core } from '../../main/compose.js';
import { Gateway } from '../../main/gateway/gateway.js';
import { createProvider } from '../../main/llm/create-provider.js';
import type { MemoryItem } from '../../main/storage/memory-store.js';
import {
  anthropicOverloaded,
  anthropicCreditTooLow,
  anthropicText,
  anthropicUnauthorized,
  dropConnection,
  startFakeAnthropic,
  type FakeLlmServer,
  type FakeReply,
} from '../fakes/fake-anthropic-server.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from '../helpers/cli.js';
import { FakeChannel } from '../helpers/fake-channel.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { until } from '../helpers/wait.js';

/**
 * When the model cannot be reached during a chat turn, the owner's message is kept (once, with its label), retried
 * when the model is back, and the notice sent meanwhile is never remembered as something Pavise said.
 */

const OWNER_PHONE = '+15550001111';
const TELEGRAM_OWNER = '4242';
/** Two attempts per model call (the provider's own retry), a millisecond apart. */
const QUICK = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 };
/** The gateway's waits before trying the model again, shortened. */
const RETRY = { firstMs: 200, maxMs: 400 };

let fake: FakeLlmServer;
/** What the model does now: down (overloaded, a dropped connection), refusing the key, out of credit, or answering. */
let model: 'overloaded' | 'unreachable' | 'refusing' | 'broke' | 'up' = 'up';
let answers: string[] = [];
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});

const running: { stop: () => Promise<void> }[] = [];
afterEach(async () => {
  for (const item of running.splice(0)) await item.stop();
  fake.reset();
  model = 'up';
  answers = [];
});

function script(): void {
  fake.respondWith((): FakeReply => {
    if (model === 'overloaded') return anthropicOverloaded();
    if (model === 'unreachable') return dropConnection();
    if (model === 'refusing') return anthropicUnauthorized();
    if (model === 'broke') return anthropicCreditTooLow();
    return anthropicText(answers.shift() ?? 'Answered.');
  });
}

interface Started {
  readonly services: Core;
  readonly channel: FakeChannel;
  readonly alerts: string[];
  readonly home: { env: NodeJS.ProcessEnv; secrets: MemorySecretStore };
  readonly clock: { offsetMs: number };
  stop(): Promise<void>;
}

async function start(channelId: ChannelId, existing?: Started['home'], retry = RETRY): Promise<Started> {
  const home = existing ?? {
    env: tempHome({
      model: { provider: 'anthropic', baseURL: fake.url },
      channels: { imessage: { enabled: channelId === 'imessage', owners: [OWNER_PHONE] }, telegram: { enabled: channelId === 'telegram' } },
    }).env,
    secrets: new MemorySecretStore(),
  };
  const env = { ...home.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY };
  const services = await compose({ env, secrets: home.secrets, provider: createProvider({ provider: 'anthropic', baseURL: fake.url }, QUICK) });
  services.channels.addIdentity('telegram', TELEGRAM_OWNER, 'owner', 'owner:pairing-code');
  const alerts: string[] = [];
  services.events.on('alert', (message) => alerts.push(message));
  const channel = new FakeChannel(channelId);
  const clock = { offsetMs: 0 };
  const gateway = new Gateway(services, { channels: [channel], sweepMs: 20, modelRetryMs: retry, now: () => Date.now() + clock.offsetMs });
  const controller = new AbortController();
  const done = gateway.run(controller.signal);
  await channel.ready;
  let stopped = false;
  const started: Started = {
    services,
    channel,
    alerts,
    home,
    clock,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      controller.abort();
      await done;
      services.close();
    },
  };
  running.push(started);
  return started;
}

/** The owner writes on Telegram (a private chat: its id is the sender's). */
function fromOwner(channel: FakeChannel, text: string) {
  return channel.id === 'telegram'
    ? channel.receive({ sender: TELEGRAM_OWNER, conversationId: TELEGRAM_OWNER, text })
    : channel.receive({ sender: OWNER_PHONE, text });
}

function remembered(services: Core): MemoryItem[] {
  return services.memory.getMany(Array.from({ length: services.memory.count() + 20 }, (_, index) => index + 1));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const requestText = (index: number): string => JSON.stringify(fake.requests[index]?.body);

describe('gateway: the model cannot be reached during a chat turn', () => {
  it('tells the owner once, keeps the message, and answers it when the model is back; the notice is never remembered as Pavise’s words', async () => {
    script();
    model = 'overloaded';
    const { channel, services } = await start('telegram');
    await fromOwner(channel, 'what is on my calendar tomorrow?');
    await until(() => channel.sent.length === 1, 'the notice');
    const notice = channel.sent[0]?.text ?? '';
    expect(notice).toMatch(/^Pavise couldn't reach the model \(it is overloaded\), so your message isn't answered yet\. It is kept: I'll answer when the model is back/);
    expect(services.outbox.list().find((entry) => entry.text === notice)).toMatchObject({ status: 'sent', notice: true });
    const conversation = services.channels.messages('telegram', TELEGRAM_OWNER);
    expect(conversation.map((message) => [message.status, message.role])).toEqual([['waiting_model', 'owner']]);

    // Pavise's memory keeps the owner's message, once and labelled as the owner's, and nothing of the notice.
    const items = () => remembered(services);
    expect(items().filter((item) => item.text.includes('calendar tomorrow'))).toEqual([
      expect.objectContaining({ sender: TELEGRAM_OWNER, provenance: { kind: 'owner' } }),
    ]);
    expect(items().filter((item) => item.sender === 'pavise' || item.text.includes('reach the model'))).toEqual([]);
    expect((await services.recall.search('reach the model')).hits).toEqual([]);

    const failedCalls = fake.requests.length;
    model = 'up';
    answers = ['Two meetings tomorrow.'];
    await until(() => channel.sent.length === 2, 'the answer once the model is back');
    expect(channel.sent[1]?.text).toBe('Two meetings tomorrow.');
    // No call left before the gateway's wait: at most the first turn and one try after one wait, two attempts each.
    expect(failedCalls).toBeLessThanOrEqual(2 * QUICK.maxAttempts);
    await sleep(3 * RETRY.maxMs);
    expect(channel.sent).toHaveLength(2);
    expect(services.channels.messages('telegram', TELEGRAM_OWNER).map((message) => message.status)).toEqual(['answered']);

    // The model saw the owner's message once, and never the notice as an assistant turn (nor as a recalled message).
    const body = requestText(fake.requests.length - 1);
    expect(body.split('what is on my calendar tomorrow?')).toHaveLength(2);
    expect(body).not.toContain('reach the model');
    const history = services.sessions.messages(services.channels.conversation('telegram', TELEGRAM_OWNER)?.sessionId ?? '');
    expect(history.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(history[0]).toMatchObject({ content: 'what is on my calendar tomorrow?', provenance: { kind: 'owner' } });
    // The answer is Pavise's words, and remembered as such.
    expect(items().filter((item) => item.sender === 'pavise').map((item) => item.text)).toEqual(['Two meetings tomorrow.']);
  });

  it('a flood from one chat during an outage gets one notice, calls the model only on its retries, and is answered in order in one turn', async () => {
    script();
    model = 'unreachable';
    const { channel, services } = await start('telegram');
    await fromOwner(channel, 'message 1');
    await until(() => channel.sent.length === 1, 'the notice');
    for (let n = 2; n <= 30; n++) await fromOwner(channel, `message ${n}`);
    await sleep(4 * RETRY.maxMs);
    expect(channel.sent).toHaveLength(1);
    expect(channel.sent[0]?.text).toMatch(/^Pavise couldn't reach the model \(no connection to it\)/);
    // The first turn, and one try after each wait (200, 400, 400, 400 ms …): not one per message.
    const calls = fake.requests.length / QUICK.maxAttempts;
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThanOrEqual(6);

    model = 'up';
    answers = ['All thirty read.'];
    await until(() => channel.sent.length === 2, 'one answer');
    await sleep(3 * RETRY.maxMs);
    expect(channel.sent.map((message) => message.text)).toEqual([expect.any(String), 'All thirty read.']);
    // One request holding all thirty, in the order they were sent.
    const all = Array.from({ length: 30 }, (_, index) => `message ${index + 1}`).join('\n\n');
    expect(requestText(fake.requests.length - 1)).toContain(JSON.stringify(all).slice(1, -1));
    expect(services.channels.messages('telegram', TELEGRAM_OWNER, { limit: 100 }).every((message) => message.status === 'answered')).toBe(true);
  });

  it('does not try again while paused, and not while over the spend cap: no model call either way', async () => {
    script();
    model = 'overloaded';
    const { channel, services } = await start('telegram');
    await fromOwner(channel, 'are you there?');
    await until(() => channel.sent.length === 1, 'the notice');
    const before = fake.requests.length;

    services.setPaused(true, 'test');
    model = 'up';
    await sleep(4 * RETRY.maxMs);
    expect(fake.requests).toHaveLength(before);
    expect(services.channels.messages('telegram', TELEGRAM_OWNER)[0]?.status).toBe('waiting_model');

    // Over the cap before resuming: the try asks the cap first and does not leave.
    const spent = services.sessions.create('elsewhere').id;
    services.sessions.append(spent, {
      role: 'assistant',
      content: [],
      stopReason: 'stop',
      usage: { ...ZERO_USAGE, inputTokens: 50_000_000 },
      provider: 'anthropic',
      model: services.config.model.name,
      timestamp: Date.now(),
    });
    services.setPaused(false, 'test');
    await until(() => channel.sent.length === 2, 'the cap notice');
    expect(fake.requests).toHaveLength(before);
    expect(channel.sent[1]?.text).toMatch(/^Daily spend cap reached/);
    // A notice too: not remembered as Pavise's words.
    expect(remembered(services).filter((item) => item.sender === 'pavise')).toEqual([]);
  });

  it('skips a message that waited longer than maxAgeMinutes, with a notice, instead of answering it late', async () => {
    script();
    model = 'overloaded';
    const { channel, services, clock, alerts } = await start('telegram');
    await fromOwner(channel, 'book the table for tonight');
    await until(() => channel.sent.length === 1, 'the notice');
    const before = fake.requests.length;
    model = 'up';
    clock.offsetMs = 61 * 60_000;
    await until(() => channel.sent.length === 2, 'the notice that it was not answered');
    expect(channel.sent[1]?.text).toBe(
      "The model stayed unreachable for over 60 minutes, so I won't answer what you sent while it was down. Send it again if it still matters.",
    );
    expect(services.channels.messages('telegram', TELEGRAM_OWNER)[0]?.status).toBe('skipped_stale');
    await until(() => alerts.some((alert) => alert.startsWith('Skipped 1 message older than 60 minutes that waited for the model')), 'the alert');
    expect(fake.requests).toHaveLength(before);
    expect(remembered(services).filter((item) => item.sender === 'pavise')).toEqual([]);
  });

  it('a refused key is told once, with the command that fixes it, and not retried', async () => {
    script();
    model = 'refusing';
    const { channel, services } = await start('telegram');
    await fromOwner(channel, 'first');
    await until(() => channel.sent.length === 1, 'the notice');
    await fromOwner(channel, 'second');
    await until(() => services.channels.unhandled().length === 0, 'both handled');
    await sleep(4 * RETRY.maxMs);
    expect(channel.sent.map((message) => message.text)).toEqual([
      'Pavise couldn\'t answer: Anthropic rejected the API key (401); store a valid one with `pavise secrets set anthropic` (it reads the key from stdin). Send your message again after that.',
    ]);
    // One call per message (a 401 is not retried by the provider either), none after.
    expect(fake.requests).toHaveLength(2);
    expect(services.channels.messages('telegram', TELEGRAM_OWNER).map((message) => message.status)).toEqual(['failed', 'failed']);
    expect(remembered(services).filter((item) => item.sender === 'pavise')).toEqual([]);
  });

  it('an account out of credit: the owner is told once what to do, messages wait without retries, and are answered when the owner writes after adding credit', async () => {
    script();
    model = 'broke';
    // The longest wait is far beyond this test: any call it sees is a message's own, never a timer's retry.
    const { channel, services, alerts } = await start('telegram', undefined, { firstMs: 200, maxMs: 60 * 60_000 });
    await fromOwner(channel, 'what is on my calendar tomorrow?');
    await until(() => channel.sent.length === 1, 'the notice');
    const told =
      'Pavise can\'t use the model: Anthropic reports that the credit balance of the account is too low (400); add credit under Plans & Billing in the Anthropic Console.';
    expect(channel.sent[0]?.text).toBe(`${told} Your message is kept: I'll answer it once that is done, or tell you if that takes over 60 minutes.`);
    expect(alerts.filter((alert) => alert.startsWith(told))).toHaveLength(1);
    // One request: the provider does not retry an empty balance.
    expect(fake.requests).toHaveLength(1);

    // The owner's next message is a try (they may have paid), and fails alike; nothing else calls the model.
    await fromOwner(channel, 'and the weather?');
    await until(() => fake.requests.length === 2, "the owner's message tried");
    await sleep(5 * RETRY.maxMs);
    expect(fake.requests).toHaveLength(2);
    expect(channel.sent).toHaveLength(1);
    expect(alerts.filter((alert) => alert.startsWith(told))).toHaveLength(1);
    expect(services.channels.messages('telegram', TELEGRAM_OWNER).map((message) => message.status)).toEqual(['waiting_model', 'waiting_model']);

    model = 'up';
    answers = ['Two meetings, and sun.'];
    await fromOwner(channel, 'I added credit');
    await until(() => channel.sent.length === 2, 'the answer');
    expect(channel.sent[1]?.text).toBe('Two meetings, and sun.');
    expect(requestText(fake.requests.length - 1)).toContain(JSON.stringify('what is on my calendar tomorrow?\n\nand the weather?\n\nI added credit').slice(1, -1));
    expect(services.channels.messages('telegram', TELEGRAM_OWNER).map((message) => message.status)).toEqual(['answered', 'answered', 'answered']);
  });

  it('a message waiting for the model when the gateway stops is answered after it starts again, without a second notice', async () => {
    script();
    model = 'overloaded';
    const first = await start('telegram');
    await fromOwner(first.channel, 'remind me what Sam said');
    await until(() => first.channel.sent.length === 1, 'the notice');
    await first.stop();

    model = 'up';
    answers = ['Sam said six.'];
    const second = await start('telegram', first.home);
    await until(() => second.channel.sent.length === 1, 'the answer after the restart');
    await sleep(3 * RETRY.maxMs);
    expect(second.channel.sent.map((message) => message.text)).toEqual(['Sam said six.']);
    expect(second.services.channels.messages('telegram', TELEGRAM_OWNER).map((message) => message.status)).toEqual(['answered']);
    expect(second.services.outbox.list().filter((entry) => entry.notice)).toHaveLength(1);
  });

  it('on iMessage the notice’s echo from chat.db is ignored and not remembered as anyone’s words', async () => {
    script();
    model = 'overloaded';
    const { channel, services } = await start('imessage');
    await fromOwner(channel, 'what time is it in Tokyo?');
    await until(() => channel.sent.length === 1, 'the notice');
    const notice = channel.sent[0]?.text ?? '';
    expect(notice).toMatch(/^Pavise couldn't reach the model/);
    // Pavise sends from this Mac's account: chat.db shows the notice again, as "from me".
    await channel.receive({ sender: OWNER_PHONE, text: notice, isFromMe: true });
    await until(() => services.channels.messages('imessage', `iMessage;-;${OWNER_PHONE}`).length === 2, 'the echo stored');
    expect(services.channels.messages('imessage', `iMessage;-;${OWNER_PHONE}`).at(-1)).toMatchObject({ status: 'ignored', role: 'self' });
    expect(remembered(services).filter((item) => item.text === notice)).toEqual([]);

    model = 'up';
    answers = ['It is 9 pm in Tokyo.'];
    await until(() => channel.sent.length === 2, 'the answer');
    expect(requestText(fake.requests.length - 1)).not.toContain('reach the model');
  });
});
