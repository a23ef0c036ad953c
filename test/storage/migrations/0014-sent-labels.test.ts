import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../main/storage/migrations/index.js';
import { Outbox } from '../../../main/storage/outbox.js';

let db: BetterSqlite3.Database;
beforeEach(() => {
  db = new BetterSqlite3(':memory:');
});
afterEach(() => db.close());

const remembered = () => db.prepare(`SELECT guid, sender_name, from_owner, json_extract(provenance, '$.kind') AS kind FROM memory_items ORDER BY id`).all();

describe('migration 0014-sent-labels', () => {
  it('adds outbox.provenance, keeps what version 13 wrote, and remembers a labelled send with its label', () => {
    migrate(db, 13);
    db.prepare(`INSERT INTO outbox (idempotency_key, channel, conversation_id, text, status, created_at, updated_at) VALUES ('old', 'telegram', '42', 'before', 'pending', 1, 1)`).run();
    expect(migrate(db, 14)).toBe(14);
    // Today's Outbox writes columns of later migrations (0015's notice), which keep 0014's labelling.
    migrate(db);
    const outbox = new Outbox(db);
    expect(outbox.byKey('old')).toMatchObject({ text: 'before', status: 'pending' });
    const entry = outbox.enqueue({ channel: 'telegram', conversationId: '42', text: 'after', idempotencyKey: 'job:1:1:1', provenance: { kind: 'untrusted', source: 'email' } });
    outbox.claim(entry.id);
    outbox.markSent(entry.id);
    const old = outbox.byKey('old') as { id: number };
    outbox.claim(old.id);
    outbox.markSent(old.id);
    expect(remembered()).toEqual([
      { guid: `outbox:${entry.id}`, sender_name: 'Pavise', from_owner: 0, kind: 'untrusted' },
      { guid: `outbox:${old.id}`, sender_name: 'Pavise', from_owner: 0, kind: 'owner' },
    ]);
  });

  it('an iMessage "from me" row that echoes a send is Pavise’s; one that echoes nothing is the owner’s', () => {
    migrate(db);
    const outbox = new Outbox(db);
    const entry = outbox.enqueue({ channel: 'imessage', conversationId: 'iMessage;-;+1555', text: 'Alert — someone wrote: hi', idempotencyKey: 'job:2:1:1', provenance: { kind: 'untrusted', source: 'non_owner_sender' } });
    outbox.claim(entry.id);
    outbox.markSent(entry.id);
    const insert = db.prepare(
      `INSERT INTO inbound_messages (channel, external_id, conversation_id, is_group, sender, is_from_me, kind, text, attachments_json, addresses_assistant, sent_at, received_at)
       VALUES ('imessage', ?, 'iMessage;-;+1555', 0, '+1555', 1, 'message', ?, '[]', 1, ?, ?)`,
    );
    insert.run('echo', 'Alert — someone wrote: hi', Date.now(), Date.now());
    insert.run('mine', 'see you at six', Date.now(), Date.now());
    expect(remembered()).toEqual([
      { guid: 'echo', sender_name: 'Pavise', from_owner: 0, kind: 'untrusted' },
      { guid: 'mine', sender_name: null, from_owner: 1, kind: 'owner' },
    ]);
  });
});
