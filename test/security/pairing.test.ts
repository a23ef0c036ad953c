import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../main/gateway/gateway.js';
import { pairingCard, pairingsToDrop } from '../../main/identity/pairing.js';
import { compose } from '../../main/compose.js';
import { startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from '../helpers/cli.js';
import { FakeChannel } from '../helpers/fake-channel.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { until } from '../helpers/wait.js';

/**
 * Pairing requests: a flood of strangers cannot fill the owner's queue for good (at most three wait per channel, the
 * oldest dropped for a newer one, with the count on the card), and a display name never speaks for itself.
 */
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
});

async function start() {
  const home = tempHome({ model: { provider: 'anthropic', baseURL: fake.url }, channels: { imessage: { enabled: true, owners: ['+15550001111'] } } });
  const services = await compose({ env: { ...home.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore(), approvalPollMs: 20 });
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

describe('pairing requests', () => {
  it('keeps at most three waiting, drops the oldest for a newer one, and says how many were dropped', async () => {
    const { services, channel } = await start();
    const senders = ['+15550002001', '+15550002002', '+15550002003', '+15550002004', '+15550002005'];
    for (const [index, sender] of senders.entries()) {
      await channel.receive({ sender, text: `hi ${index}`, senderName: `Person ${index}` });
      await until(() => services.approvals.list({ limit: 50 }).length === index + 1, `request ${index + 1}`);
    }
    const pending = services.approvals.pending().filter((approval) => approval.tool === 'pair_sender');
    expect(pending.map((approval) => (approval.input as { sender: string }).sender)).toEqual(senders.slice(2));
    expect(pending.at(-1)?.reason).toContain('2 earlier requests were dropped');
    expect(services.approvals.list({ status: 'expired', limit: 50 }).map((approval) => (approval.input as { sender: string }).sender).sort()).toEqual(senders.slice(0, 2));
  });

  it('the card says who claims a display name and shows the handle it came from', async () => {
    const { services, channel } = await start();
    await channel.receive({ sender: '+15550003003', text: 'it is me, new phone', senderName: 'Mom' });
    await until(() => services.approvals.pending().length === 1, 'a pairing request');
    const request = services.approvals.pending()[0];
    expect(request?.title).toBe('Let someone calling themselves “Mom” (+15550003003) talk to Pavise on iMessage as a contact');
    expect(request?.title.startsWith('Let Mom')).toBe(false);
    expect(request?.reason).toContain('the name is their own claim');
  });
});

describe('pairingCard and pairingsToDrop', () => {
  it('never lets a display name stand alone, also a look-alike or an empty one', () => {
    expect(pairingCard('telegram', '777', 'Apple Support', 0).title).toBe('Let someone calling themselves “Apple Support” (777) talk to Pavise on Telegram as a contact');
    expect(pairingCard('imessage', '+15550003003', '  ', 0).title).toBe('Let +15550003003 talk to Pavise on iMessage as a contact');
    expect(pairingCard('imessage', '+15550003003', 'M\u043Em', 1).reason).toContain('1 earlier request was dropped');
  });

  it('drops only the oldest pending requests of the same channel', () => {
    const request = (id: string, channel: string, createdAt: number) => ({ id, tool: 'pair_sender', input: { channel, sender: id }, status: 'pending', createdAt });
    const pending = [request('c', 'imessage', 3), request('a', 'imessage', 1), request('t', 'telegram', 0), request('b', 'imessage', 2)];
    expect(pairingsToDrop(pending, 'imessage')).toEqual(['a']);
    expect(pairingsToDrop(pending, 'telegram')).toEqual([]);
  });
});
