import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../main/storage/migrations/index.js';

let dir: string;
let db: BetterSqlite3.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-m0004-'));
  db = new BetterSqlite3(join(dir, 'pavise.db'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('migration 0004-channels', () => {
  it('adds the channel tables and keeps the approvals and activity written at version 3', () => {
    migrate(db, 3);
    db.prepare(
      `INSERT INTO approvals (id, tool, input_json, effects_json, provenance_json, hash, title, reason, risk, status, created_at, expires_at)
       VALUES ('ap_aaaaaaaaaaaa', 't', '{}', '[]', '{}', 'h', 'title', 'why', 'low', 'pending', 1, 2)`,
    ).run();
    db.prepare(`INSERT INTO activity (id, ts, kind, summary, actor, detail_json, mac) VALUES (1, 5, 'system', 's', 'pavise', '{}', 'm')`).run();

    expect(migrate(db, 4)).toBe(4);

    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name);
    expect(tables).toEqual(expect.arrayContaining(['inbound_messages', 'channel_cursors', 'conversations', 'identities', 'outbox']));
    expect(db.prepare('SELECT id, status FROM approvals').all()).toEqual([{ id: 'ap_aaaaaaaaaaaa', status: 'pending' }]);
    expect(db.prepare('SELECT id, mac FROM activity').all()).toEqual([{ id: 1, mac: 'm' }]);
  });

  it('stores an inbound message once per channel and external id, and an outbox key once', () => {
    migrate(db, 4);
    const inbound = db.prepare(
      `INSERT INTO inbound_messages (channel, external_id, conversation_id, is_group, sender, is_from_me, kind, text, attachments_json,
         addresses_assistant, sent_at, received_at) VALUES (?, ?, 'c', 0, 's', 0, 'message', 't', '[]', 1, 1, 1)`,
    );
    inbound.run('imessage', 'guid-1');
    inbound.run('telegram', 'guid-1');
    expect(() => inbound.run('imessage', 'guid-1')).toThrow(/UNIQUE/);
    const outbox = db.prepare(
      `INSERT INTO outbox (idempotency_key, channel, conversation_id, text, status, created_at, updated_at) VALUES (?, 'imessage', 'c', 't', ?, 1, 1)`,
    );
    outbox.run('reply:1', 'pending');
    expect(() => outbox.run('reply:1', 'pending')).toThrow(/UNIQUE/);
    expect(() => outbox.run('reply:2', 'lost')).toThrow(/CHECK/);
  });
});
