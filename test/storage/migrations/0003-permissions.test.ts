import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../main/storage/migrations/index.js';

let dir: string;
let db: BetterSqlite3.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-m0003-'));
  db = new BetterSqlite3(join(dir, 'pavise.db'));
  db.pragma('foreign_keys = ON');
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const tables = (): string[] =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((row) => row.name);

describe('migration 0003-permissions', () => {
  it('adds the gate tables and keeps the sessions and notes written at version 2', () => {
    migrate(db, 2);
    db.prepare('INSERT INTO sessions (id, key, created_at, updated_at) VALUES (?, ?, ?, ?)').run('s1', 'local', 1, 2);
    db.prepare('INSERT INTO notes (text, created_at, session_id) VALUES (?, ?, ?)').run('buy milk', 3, 's1');
    expect(tables()).not.toContain('approvals');

    expect(migrate(db, 3)).toBe(3);

    expect(tables()).toEqual(expect.arrayContaining(['activity', 'activity_head', 'approvals', 'grants', 'sent_messages', 'state']));
    expect(db.prepare('SELECT text, session_id FROM notes').all()).toEqual([{ text: 'buy milk', session_id: 's1' }]);
    expect(db.prepare('SELECT id, key FROM sessions').all()).toEqual([{ id: 's1', key: 'local' }]);
  });

  it('constrains approval states and risks, and keeps a single log head', () => {
    migrate(db, 3);
    const insert = db.prepare(
      `INSERT INTO approvals (id, tool, input_json, effects_json, provenance_json, hash, title, reason, risk, status, created_at, expires_at)
       VALUES (?, 't', '{}', '[]', '{}', 'h', 'title', 'why', ?, ?, 1, 2)`,
    );
    insert.run('ap_aaaaaaaaaaaa', 'high', 'pending');
    expect(() => insert.run('ap_bbbbbbbbbbbb', 'extreme', 'pending')).toThrow(/CHECK/);
    expect(() => insert.run('ap_cccccccccccc', 'low', 'maybe')).toThrow(/CHECK/);
    const head = db.prepare('INSERT INTO activity_head (id, count, last_id, last_mac, mac) VALUES (?, 0, 0, ?, ?)');
    head.run(1, 'x', 'y');
    expect(() => head.run(2, 'x', 'y')).toThrow(/CHECK/);
  });
});
