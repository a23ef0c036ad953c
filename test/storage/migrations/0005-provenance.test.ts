import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../main/storage/migrations/index.js';

let dir: string;
let db: BetterSqlite3.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-m0005-'));
  db = new BetterSqlite3(join(dir, 'pavise.db'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const inbound = (externalId: string, sender: string, senderName: string | null, role: string | null) =>
  db
    .prepare(
      `INSERT INTO inbound_messages (channel, external_id, conversation_id, is_group, sender, sender_name, is_from_me, kind, text, attachments_json,
         addresses_assistant, sent_at, received_at, role) VALUES ('imessage', ?, 'c', 0, ?, ?, 0, 'message', 't', '[]', 1, 1, 1, ?)`,
    )
    .run(externalId, sender, senderName, role);

describe('migration 0005-provenance', () => {
  it('labels rows written at version 4: notes the owner’s, titles the sender’s claim, inbound messages by sender role', () => {
    migrate(db, 4);
    db.prepare(`INSERT INTO notes (text, created_at) VALUES ('old note', 1)`).run();
    db.prepare(`INSERT INTO conversations (channel, conversation_id, is_group, title, last_message_at) VALUES ('imessage', 'iMessage;-;+1555', 0, 'Mom', 1)`).run();
    db.prepare(`INSERT INTO conversations (channel, conversation_id, is_group, title, last_message_at) VALUES ('telegram', '-100', 1, NULL, 1)`).run();
    inbound('1', '+1555', null, 'owner');
    inbound('2', '+1556', 'Al', 'contact');
    inbound('3', '+1557', 'Mom', 'stranger');
    inbound('4', '+1558', null, null);

    expect(migrate(db, 5)).toBe(5);

    expect(JSON.parse((db.prepare('SELECT provenance FROM notes').get() as { provenance: string }).provenance)).toEqual({ kind: 'owner' });
    const titles = db.prepare('SELECT conversation_id, title_provenance FROM conversations ORDER BY conversation_id').all() as { conversation_id: string; title_provenance: string | null }[];
    expect(titles.map((row) => [row.conversation_id, row.title_provenance === null ? null : JSON.parse(row.title_provenance)])).toEqual([
      ['-100', null],
      ['iMessage;-;+1555', { kind: 'untrusted', source: 'non_owner_sender', detail: 'the name imessage iMessage;-;+1555 gives itself' }],
    ]);
    const labels = (db.prepare('SELECT provenance FROM inbound_messages ORDER BY external_id').all() as { provenance: string | null }[]).map((row) =>
      row.provenance === null ? null : JSON.parse(row.provenance),
    );
    expect(labels).toEqual([
      { kind: 'owner' },
      { kind: 'contact', contactId: 'imessage:+1556' },
      { kind: 'untrusted', source: 'non_owner_sender', detail: 'imessage Mom' },
      null,
    ]);
  });

  it('refuses a label that is not JSON', () => {
    migrate(db, 5);
    expect(() => db.prepare(`INSERT INTO notes (text, created_at, provenance) VALUES ('n', 1, 'owner')`).run()).toThrow(/CHECK/);
  });
});
