import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../main/storage/migrations/index.js';
import { Outbox } from '../../../main/storage/outbox.js';

let db: BetterSqlite3.Database;
beforeEach(() => {
  db = new BetterSqlite3(':memory:');
});
afterEach(() => db.close());

const remembered = () => db.prepare(`SELECT guid, text, sender_name FROM memory_items ORDER BY id`).all();

function sent(outbox: Outbox, entry: Parameters<Outbox['enqueue']>[0]): number {
  const queued = outbox.enqueue(entry);
  outbox.claim(queued.id);
  outbox.markSent(queued.id);
  return queued.id;
}

describe('migration 0015-notices', () => {
  it('keeps what version 14 wrote as no notice, and remembers a sent reply but not a sent notice', () => {
    migrate(db, 14);
    db.prepare(`INSERT INTO outbox (idempotency_key, channel, conversation_id, text, status, created_at, updated_at) VALUES ('old', 'telegram', '42', 'before', 'pending', 1, 1)`).run();
    expect(migrate(db, 15)).toBe(15);
    const outbox = new Outbox(db);
    expect(outbox.byKey('old')).toMatchObject({ text: 'before', notice: false });
    const reply = sent(outbox, { channel: 'telegram', conversationId: '42', text: 'Two meetings tomorrow.', idempotencyKey: 'reply:1' });
    sent(outbox, { channel: 'telegram', conversationId: '42', text: "Pavise couldn't reach the model", idempotencyKey: 'model-down:2', notice: true });
    expect(outbox.byKey('model-down:2')).toMatchObject({ status: 'sent', notice: true });
    expect(remembered()).toEqual([{ guid: `outbox:${reply}`, text: 'Two meetings tomorrow.', sender_name: 'Pavise' }]);
  });

  it('an iMessage "from me" row that echoes a notice is not remembered; one that echoes a reply is Pavise’s', () => {
    migrate(db);
    const outbox = new Outbox(db);
    sent(outbox, { channel: 'imessage', conversationId: 'iMessage;-;+1555', text: "Pavise couldn't reach the model", idempotencyKey: 'model-down:1', notice: true });
    sent(outbox, { channel: 'imessage', conversationId: 'iMessage;-;+1555', text: 'It is 9 pm in Tokyo.', idempotencyKey: 'reply:2' });
    const insert = db.prepare(
      `INSERT INTO inbound_messages (channel, external_id, conversation_id, is_group, sender, is_from_me, kind, text, attachments_json, addresses_assistant, sent_at, received_at)
       VALUES ('imessage', ?, 'iMessage;-;+1555', 0, '+1555', 1, 'message', ?, '[]', 1, ?, ?)`,
    );
    insert.run('notice-echo', "Pavise couldn't reach the model", Date.now(), Date.now());
    insert.run('reply-echo', 'It is 9 pm in Tokyo.', Date.now(), Date.now());
    expect(remembered()).toEqual([{ guid: 'reply-echo', text: 'It is 9 pm in Tokyo.', sender_name: 'Pavise' }]);
  });
});
