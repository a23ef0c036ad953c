import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../main/gateway/gateway.js';
import { compose } from '../../main/compose.js';
import { anthropicError, anthropicText, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from '../helpers/cli.js';
import { FakeChannel } from '../helpers/fake-channel.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { until } from '../helpers/wait.js';

/**
 * Secrets never rest in the database or leave in a reply: inbound channel text is scrubbed before it is stored, and
 * an error's text sent back to the owner is scrubbed too.
 */
const OWNER_PHONE = '+15550001111';
const SECRET = 'ghp_inboundCANARY0123456789abcdef';
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
  fake.reset();
});

async function start() {
  const home = tempHome({ model: { provider: 'anthropic', baseURL: fake.url }, channels: { imessage: { enabled: true, owners: [OWNER_PHONE] } } });
  const secrets = new MemorySecretStore();
  await secrets.set('github-token', SECRET);
  const services = await compose({ env: { ...home.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets, approvalPollMs: 20 });
  const channel = new FakeChannel('imessage');
  const gateway = new Gateway(services, { channels: [channel], log: () => undefined, sweepMs: 50 });
  const controller = new AbortController();
  const done = gateway.run(controller.signal);
  await channel.ready;
  stops.push(async () => {
    controller.abort();
    await done;
    services.close();
    home.cleanup();
  });
  return { services, channel };
}

describe('inbound text and error replies are scrubbed', () => {
  it.each([
    ['plain', `here is the token ${SECRET} ok`],
    ['base64url', `token ${Buffer.from(`x=${SECRET}`).toString('base64url')} ok`],
    ['spaced out in full-width', `token ${[...SECRET].map((char) => String.fromCharCode(char.charCodeAt(0) + 0xfee0)).join(' ')} ok`],
  ])('a %s secret in an inbound message is stored and sent to the model as [secret:NAME]', async (_label, text) => {
    const { services, channel } = await start();
    fake.enqueue(anthropicText('Noted.'));
    await channel.receive({ sender: OWNER_PHONE, text });
    await until(() => channel.sent.length === 1, 'the reply');
    const stored = services.channels.messages('imessage', `iMessage;-;${OWNER_PHONE}`);
    expect(stored[0]?.text).toContain('[secret:github-token]');
    expect(services.broker.containsSecret(stored[0]?.text)).toBe(false);
    expect(fake.lastRequest.rawBody).not.toContain(SECRET);
  });

  it('an error whose text carries a secret reaches the owner scrubbed', async () => {
    const { channel } = await start();
    fake.enqueue(anthropicError(400, 'invalid_request_error', `bad header: Bearer ${SECRET}`));
    await channel.receive({ sender: OWNER_PHONE, text: 'hello' });
    await until(() => channel.sent.length === 1, 'the error reply');
    expect(channel.sent[0]?.text).not.toContain(SECRET);
    expect(channel.sent[0]?.text).toContain('[secret:github-token]');
  });
});
