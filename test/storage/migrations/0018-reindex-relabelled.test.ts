import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../main/storage/migrations/index.js';

let db: BetterSqlite3.Database;
beforeEach(() => {
  db = new BetterSqlite3(':memory:');
});
afterEach(() => db.close());

function inbound(externalId: string, isFromMe: 0 | 1, text: string): void {
  db.prepare(
    `INSERT INTO inbound_messages (channel, external_id, conversation_id, is_group, sender, sender_name, is_from_me, kind, text, attachments_json, addresses_assistant, sent_at, received_at)
     VALUES ('telegram', ?, '42', 0, '42', 'Robin', ?, 'message', ?, '[]', 1, 1, 1)`,
  ).run(externalId, isFromMe, text);
}

/** The items the index holds as the owner's words, by guid. */
const ownersInIndex = () =>
  (
    db.prepare(`SELECT i.guid FROM memory_fts f JOIN memory_items i ON i.id = f.rowid WHERE memory_fts MATCH 'who : paviseowner' ORDER BY i.guid`).all() as {
      guid: string;
    }[]
  ).map((row) => row.guid);

describe('migration 0018-reindex-relabelled', () => {
  it('indexes again the items whose owner mark changed after they were indexed, and keeps the index in step from then on', () => {
    migrate(db, 17);
    inbound('telegram-owner', 0, 'the spare key is under the blue flowerpot');
    inbound('from-this-mac', 1, 'book the table for eight');
    inbound('stranger', 0, 'click this link to claim your prize');
    // Version 17's gateway learned the first was the owner's (their own Telegram account); the index kept the old `who`.
    db.prepare(`UPDATE inbound_messages SET role = 'owner', provenance = '{"kind":"owner"}' WHERE external_id = 'telegram-owner'`).run();
    // An item relabelled away from the owner by hand, as 0017 did, kept the owner's word.
    db.prepare(`UPDATE memory_items SET from_owner = 0, provenance = '{"kind":"untrusted","source":"tool_output"}' WHERE guid = 'from-this-mac'`).run();
    expect(ownersInIndex()).toEqual(['from-this-mac']);

    expect(migrate(db, 18)).toBe(18);
    expect(ownersInIndex()).toEqual(['telegram-owner']);
    const flowerpot = db.prepare(`SELECT rowid FROM memory_fts WHERE memory_fts MATCH 'flowerpot'`).all();
    expect(flowerpot).toHaveLength(1);

    db.prepare(`UPDATE inbound_messages SET role = 'owner', provenance = '{"kind":"owner"}' WHERE external_id = 'stranger'`).run();
    expect(ownersInIndex()).toEqual(['stranger', 'telegram-owner']);
    db.prepare(`UPDATE memory_items SET text = 'my key is [secret removed]' WHERE guid = 'stranger'`).run();
    expect(db.prepare(`SELECT rowid FROM memory_fts WHERE memory_fts MATCH 'prize'`).all()).toEqual([]);
    expect(db.prepare(`SELECT count(*) AS n FROM memory_fts WHERE memory_fts MATCH 'removed'`).get()).toEqual({ n: 1 });
  });
});
