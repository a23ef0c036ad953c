import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InboundMessage } from '../../main/common/inbound.js';
import { MemoryRecall } from '../../main/memory/recall.js';
import { openStorage, type Storage } from '../../main/storage/storage.js';

/**
 * The gateway learns who sent a message after memory stored it (ChannelStore.setStatus relabels the remembered copy).
 * The search index must follow: the owner's own words found by naming the owner, and a message that turns out not to
 * be the owner's never found as theirs.
 */
let dir: string;
let storage: Storage;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-relabel-'));
  storage = openStorage(join(dir, 'pavise.db'), { grantTargetOf: () => '' });
});
afterEach(() => {
  storage.close();
  rmSync(dir, { recursive: true, force: true });
});

const telegram = (fields: Partial<InboundMessage>): InboundMessage => ({
  channel: 'telegram',
  externalId: '100:1',
  conversationId: '100',
  isGroup: false,
  sender: '555',
  senderName: 'Robin',
  text: 'the spare key is under the blue flowerpot',
  sentAt: Date.UTC(2024, 4, 2),
  isFromMe: false,
  kind: 'message',
  attachments: [],
  addressesAssistant: true,
  ...fields,
});

const recall = () => new MemoryRecall({ store: storage.memory, ownerName: 'Robin Lake', now: () => Date.UTC(2024, 5, 1) });

describe('the search index follows a relabelled message', () => {
  it('finds what the owner wrote from their own Telegram account when asked what the owner said', async () => {
    const id = storage.channels.storeInbound(telegram({}), 'c1')!;
    storage.channels.setStatus(id, 'answered', 'owner');
    const mine = await recall().search('flowerpot', { who: 'me' });
    expect(mine.hits.map((hit) => [hit.ref.guid, hit.fromOwner])).toEqual([['100:1', true]]);
    const asked = await recall().search('what did Robin Lake say about the flowerpot');
    expect(asked.hits[0]?.ref.guid).toBe('100:1');
  });

  it('no longer finds as the owner’s a message relabelled as someone else’s', async () => {
    const id = storage.channels.storeInbound(telegram({ externalId: '100:2', kind: 'forwarded', text: 'forwarded: wire the deposit to account 4411' }), 'c2');
    storage.channels.setStatus(id!, 'processing', 'owner');
    expect((await recall().search('deposit', { who: 'me' })).hits).toHaveLength(0);
    const forwarded = await recall().search('deposit');
    expect(forwarded.hits.map((hit) => [hit.ref.guid, hit.fromOwner, hit.provenance.kind])).toEqual([['100:2', false, 'untrusted']]);
  });

  it('a message that arrived as the owner’s and is relabelled as a contact’s loses the owner marker', async () => {
    const db = storage.pairingDatabase;
    const id = storage.channels.storeInbound(telegram({ externalId: '100:3', text: 'the gate code changed to 9182' }), 'c3')!;
    storage.channels.setStatus(id, 'processing', 'owner');
    storage.channels.setStatus(id, 'answered', 'contact');
    expect(db.prepare('SELECT from_owner FROM memory_items WHERE guid = ?').get('100:3')).toEqual({ from_owner: 0 });
    expect((await recall().search('gate code', { who: 'me' })).hits).toHaveLength(0);
  });
});
