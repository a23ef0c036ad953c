import { afterEach, describe, expect, it } from 'vitest';
import { compose } from '../../main/compose.js';
import { Gateway } from '../../main/gateway/gateway.js';
import { MAX_SEND_ATTEMPTS, RETRY_BASE_MS, RETRY_MAX_MS } from '../../main/storage/outbox.js';
import { tempHome } from '../helpers/cli.js';
import { FakeChannel } from '../helpers/fake-channel.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { until } from '../helpers/wait.js';

const SAM = 'iMessage;-;+15550100';
const ALEX = 'iMessage;-;+15550199';
const UNREACHABLE = { ok: false, retryable: true, message: 'Messages did not answer' } as const;

const running: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
});

/** A gateway on a fake iMessage channel whose clock the test moves (the outbox's retry waits are read from it). */
async function start(limits: Record<string, unknown> = {}) {
  const home = tempHome({ channels: { imessage: { enabled: true, owners: ['+15550001111'] } }, limits });
  const services = await compose({ env: home.env, secrets: new MemorySecretStore() });
  const channel = new FakeChannel('imessage');
  const clock = { now: Date.now() };
  const log: string[] = [];
  const gateway = new Gateway(services, { channels: [channel], now: () => clock.now, log: (line) => log.push(line), sweepMs: 20 });
  const controller = new AbortController();
  const done = gateway.run(controller.signal);
  await channel.ready;
  running.push(async () => {
    controller.abort();
    await done;
    services.close();
    home.cleanup();
  });
  /** A `tool:` key: a send the gate already checked (pacing is not applied again); `reply:` keys are paced here. */
  const queue = (conversationId: string, text: string, key: string) =>
    services.outbox.enqueue({ channel: 'imessage', conversationId, text, idempotencyKey: key.startsWith('reply:') ? key : `tool:${key}` }, clock.now);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
  return { services, channel, clock, log, queue, settle };
}

describe('gateway: outbox order within a conversation', () => {
  it('sends nothing newer to a chat while its earlier message waits for a retry; other chats go on; then both in order', async () => {
    const { services, channel, clock, queue, settle } = await start();
    let down = true;
    channel.failWhen = (message) => (down && message.conversationId === SAM ? UNREACHABLE : undefined);
    const first = queue(SAM, 'starting the backup', 'order:1');
    await until(() => services.outbox.get(first.id)?.attempts === 1, 'the first attempt');
    queue(SAM, 'backup done', 'order:2');
    queue(ALEX, 'see you at 6', 'order:3');
    await until(() => channel.sent.length === 1, 'the other chat’s message');
    await settle(); // several sweeps: "backup done" must not overtake "starting the backup"
    expect(channel.sent.map((message) => message.text)).toEqual(['see you at 6']);
    expect(channel.tried.map((message) => message.text)).toEqual(['starting the backup', 'see you at 6']);

    down = false;
    clock.now += RETRY_BASE_MS;
    await until(() => channel.sent.length === 3, 'the retry and the message behind it');
    expect(channel.sent.map((message) => message.text)).toEqual(['see you at 6', 'starting the backup', 'backup done']);
  });

  it('lets the later messages go once the earlier one is given up, and logs the failure', async () => {
    const { services, channel, clock, log, queue, settle } = await start();
    channel.failWhen = (message) => (message.text === 'chunk 1 of 2' ? UNREACHABLE : undefined);
    const first = queue(SAM, 'chunk 1 of 2', 'chunks:1');
    const second = queue(SAM, 'chunk 2 of 2', 'chunks:2');
    for (let attempt = 1; attempt < MAX_SEND_ATTEMPTS; attempt++) {
      await until(() => services.outbox.get(first.id)?.attempts === attempt, `attempt ${attempt}`);
      expect(services.outbox.get(second.id)?.status).toBe('pending');
      clock.now += RETRY_MAX_MS;
    }
    await until(() => services.outbox.get(first.id)?.status === 'failed', 'giving up');
    await until(() => channel.sent.length === 1, 'the later chunk');
    await settle();
    expect(channel.sent.map((message) => message.text)).toEqual(['chunk 2 of 2']);
    expect(channel.tried.filter((message) => message.text === 'chunk 1 of 2')).toHaveLength(MAX_SEND_ATTEMPTS);
    expect(log).toContain(`imessage: sending outbox #${first.id} failed — Messages did not answer`);
  });

  it('a message held by pacing is not overtaken by a later one to the same chat that pacing would not hold', async () => {
    const { services, channel, queue, settle } = await start({ pacing: { perRecipientPerMinute: 1 } });
    queue(SAM, 'first reply', 'reply:1');
    await until(() => channel.sent.length === 1, 'the first reply');
    // Queued together, so both are in one page: the reply is over this minute's cap, the tool send behind it is not checked again.
    const held = queue(SAM, 'second reply', 'reply:2');
    const behind = queue(SAM, 'and a note', 'note:3');
    await until(() => services.outbox.get(held.id)?.status === 'held' || channel.sent.length > 1, 'the second reply held');
    await settle();
    expect(channel.sent.map((message) => message.text)).toEqual(['first reply']);
    expect(services.outbox.get(behind.id)?.status).toBe('pending');
  });

  it('tells the owner when a reply is given up (the person heard nothing); a tool send’s failure is its turn’s to report', async () => {
    const { services, channel, clock, settle } = await start();
    const alerts: string[] = [];
    services.events.on('alert', (message) => alerts.push(message));
    channel.failWhen = () => ({ ok: false, retryable: false, message: 'not registered with iMessage' });
    const reply = services.outbox.enqueue({ channel: 'imessage', conversationId: SAM, text: 'Your table is booked for 8.', idempotencyKey: 'reply:4242' }, clock.now);
    const tool = services.outbox.enqueue({ channel: 'imessage', conversationId: ALEX, text: 'see you at 6', idempotencyKey: 'tool:t1' }, clock.now);
    await until(() => services.outbox.get(reply.id)?.status === 'failed' && services.outbox.get(tool.id)?.status === 'failed', 'both given up');
    await settle();
    expect(alerts).toEqual(['A reply to +15550100 could not be sent and was given up (not registered with iMessage). It begins: "Your table is booked for 8."']);
  });
});
