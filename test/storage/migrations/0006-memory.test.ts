import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InboundMessage } from '../../../main/common/inbound.js';
import { migrate } from '../../../main/storage/migrations/index.js';
import { openStorage, type Storage } from '../../../main/storage/storage.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-m0006-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const inbound = (fields: Partial<InboundMessage>): InboundMessage => ({
  channel: 'telegram',
  externalId: '100:1',
  conversationId: '100',
  isGroup: false,
  sender: '555',
  senderName: 'Jordan',
  text: 'the flat on Elm Street is free from March',
  sentAt: Date.UTC(2024, 4, 2),
  isFromMe: false,
  kind: 'message',
  attachments: [],
  addressesAssistant: false,
  ...fields,
});

function rows(storage: Storage) {
  return storage.pairingDatabase
    .prepare('SELECT kind, channel, conversation, guid, sender, from_owner, text, provenance FROM memory_items ORDER BY id')
    .all() as { kind: string; channel: string; conversation: string; guid: string; sender: string; from_owner: number; text: string; provenance: string }[];
}

function indexed(storage: Storage, word: string): number[] {
  return (storage.pairingDatabase.prepare('SELECT rowid FROM memory_fts WHERE memory_fts MATCH ? ORDER BY rowid').all(`"${word}"`) as { rowid: number }[]).map(
    (row) => row.rowid,
  );
}

describe('migration 0006-memory', () => {
  it('remembers notes written before it, with their labels, and indexes them', () => {
    const db = new BetterSqlite3(join(dir, 'pavise.db'));
    migrate(db, 5);
    db.prepare(`INSERT INTO notes (text, created_at) VALUES ('gate code is 1234', 1)`).run();
    db.prepare(`INSERT INTO notes (text, created_at, provenance) VALUES ('from a web page', 2, '{"kind":"untrusted","source":"web"}')`).run();
    expect(migrate(db, 6)).toBe(6);
    const items = db.prepare('SELECT guid, from_owner, provenance FROM memory_items ORDER BY id').all();
    expect(items).toEqual([
      { guid: 'note:1', from_owner: 1, provenance: '{"kind":"owner"}' },
      { guid: 'note:2', from_owner: 0, provenance: '{"kind":"untrusted","source":"web"}' },
    ]);
    expect(db.prepare(`SELECT rowid FROM memory_fts WHERE memory_fts MATCH '"gate"'`).all()).toEqual([{ rowid: 1 }]);
    db.close();
  });

  it('remembers every inbound message as a non-owner’s text until the gateway classifies its sender, then takes that label', () => {
    const storage = openStorage(join(dir, 'pavise.db'), { grantTargetOf: () => '' });
    const id = storage.channels.storeInbound(inbound({}), 'c1')!;
    storage.channels.storeInbound(inbound({ externalId: '100:2', isFromMe: true, sender: 'me', senderName: undefined, text: 'great, I will take it' }), 'c2');
    storage.channels.storeInbound(inbound({ externalId: '100:3', kind: 'reaction', text: '👍' }), 'c3');
    let items = rows(storage);
    expect(items.map((item) => [item.guid, item.from_owner, JSON.parse(item.provenance).kind])).toEqual([
      ['100:1', 0, 'untrusted'],
      ['100:2', 1, 'owner'],
    ]);
    expect(JSON.parse(items[0]!.provenance)).toEqual({ kind: 'untrusted', source: 'non_owner_sender', detail: 'telegram Jordan' });

    storage.channels.setStatus(id, 'processing', 'contact');
    items = rows(storage);
    expect(JSON.parse(items[0]!.provenance)).toEqual({ kind: 'contact', contactId: 'telegram:555' });
    storage.channels.setStatus(id, 'answered', 'owner');
    expect(rows(storage)[0]!.from_owner).toBe(1);
    // Redelivery stores nothing twice.
    storage.channels.storeInbound(inbound({}), 'c1');
    expect(rows(storage)).toHaveLength(2);
    expect(indexed(storage, 'elm')).toEqual([1]);
    storage.close();
  });

  it('remembers local turns (the owner’s words and the replies) but not channel sessions, whose messages are already there', () => {
    const storage = openStorage(join(dir, 'pavise.db'), { grantTargetOf: () => '' });
    const local = storage.sessions.create('local').id;
    storage.sessions.append(local, { role: 'user', content: 'remind me what Jordan said about the flat', provenance: { kind: 'owner' }, timestamp: 1 });
    storage.sessions.append(local, {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Jordan said ' },
        { type: 'toolCall', id: 'c', name: 'recall', input: {} },
        { type: 'text', text: 'it is free from March.' },
      ],
      stopReason: 'stop',
      usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
      provider: 'anthropic',
      model: 'm',
      timestamp: 2,
    });
    storage.sessions.append(local, { role: 'toolResult', toolCallId: 'c', toolName: 'recall', content: 'stranger text', isError: false, provenance: { kind: 'untrusted', source: 'tool_output' }, timestamp: 3 });
    const channelSession = storage.sessions.create('telegram:100').id;
    storage.sessions.append(channelSession, { role: 'user', content: 'the same words as the inbound row', provenance: { kind: 'owner' }, timestamp: 4 });
    const items = rows(storage);
    expect(items.map((item) => [item.kind, item.sender, item.from_owner, item.text])).toEqual([
      ['turn', 'owner', 1, 'remind me what Jordan said about the flat'],
      ['turn', 'pavise', 0, 'Jordan said it is free from March.'],
    ]);
    storage.close();
  });

  it('remembers Telegram replies once sent, labelled as the session they answer; iMessage replies come back through chat.db instead', () => {
    const storage = openStorage(join(dir, 'pavise.db'), { grantTargetOf: () => '' });
    const inboundId = storage.channels.storeInbound(inbound({}), 'c1')!;
    const session = storage.sessions.create('telegram:100').id;
    storage.channels.setConversationSession('telegram', '100', session);
    storage.channels.setStatus(inboundId, 'processing', 'stranger', session);
    storage.sessions.append(session, { role: 'user', content: 'x', provenance: { kind: 'untrusted', source: 'non_owner_sender', detail: 'telegram Jordan' }, timestamp: 1 });
    const reply = storage.outbox.enqueue({ channel: 'telegram', conversationId: '100', text: 'Thanks, noted', idempotencyKey: 'k1' });
    const imessage = storage.outbox.enqueue({ channel: 'imessage', conversationId: 'iMessage;-;+1555', text: 'Sent by iMessage', idempotencyKey: 'k2' });
    storage.outbox.markSent(reply.id);
    storage.outbox.markSent(imessage.id);
    const items = rows(storage).filter((item) => item.sender === 'pavise');
    expect(items.map((item) => [item.guid, JSON.parse(item.provenance).kind])).toEqual([[`outbox:${reply.id}`, 'untrusted']]);
    storage.close();
  });

  it('forgets an item from the index when the item is deleted', () => {
    const storage = openStorage(join(dir, 'pavise.db'), { grantTargetOf: () => '' });
    storage.notes.add('the boiler code is 9981');
    expect(indexed(storage, 'boiler')).toHaveLength(1);
    storage.pairingDatabase.prepare('DELETE FROM memory_items').run();
    expect(indexed(storage, 'boiler')).toEqual([]);
    storage.close();
  });
});
