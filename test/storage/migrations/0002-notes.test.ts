import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../main/storage/migrations/index.js';

let dir: string;
let db: BetterSqlite3.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-m0002-'));
  db = new BetterSqlite3(join(dir, 'pavise.db'));
  db.pragma('foreign_keys = ON');
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const columns = (table: string): string[] =>
  (db.pragma(`table_info(${table})`) as { name: string }[]).map((column) => column.name);

describe('migration 0002-notes', () => {
  it('adds notes and keeps the sessions and messages written at version 1', () => {
    migrate(db, 1);
    db.prepare('INSERT INTO sessions (id, key, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run('s1', 'cli', 'Plans', 10, 20);
    db.prepare(
      'INSERT INTO messages (session_id, seq, role, provenance, content, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run('s1', 1, 'user', '{"kind":"owner"}', '{"role":"user","content":"hi"}', 11);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'notes'").get()).toBeUndefined();

    expect(migrate(db, 2)).toBe(2);

    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(columns('notes')).toEqual(['id', 'text', 'created_at', 'session_id']);
    expect(db.prepare('SELECT id, key, title, created_at, updated_at FROM sessions').all()).toEqual([
      { id: 's1', key: 'cli', title: 'Plans', created_at: 10, updated_at: 20 },
    ]);
    expect(db.prepare('SELECT session_id, seq, content FROM messages').all()).toEqual([
      { session_id: 's1', seq: 1, content: '{"role":"user","content":"hi"}' },
    ]);
  });

  it('links a note to its session loosely: NULL allowed, cleared when the session goes', () => {
    migrate(db, 1);
    db.prepare('INSERT INTO sessions (id, key, created_at, updated_at) VALUES (?, ?, ?, ?)').run('s1', 'cli', 1, 1);
    migrate(db, 2);

    const insert = db.prepare('INSERT INTO notes (text, created_at, session_id) VALUES (?, ?, ?)');
    insert.run('from a session', 5, 's1');
    insert.run('on its own', 6, null);
    expect(() => insert.run('dangling', 7, 'missing')).toThrow(/FOREIGN KEY/);

    db.prepare('DELETE FROM sessions WHERE id = ?').run('s1');
    expect(db.prepare('SELECT text, session_id FROM notes ORDER BY id').all()).toEqual([
      { text: 'from a session', session_id: null },
      { text: 'on its own', session_id: null },
    ]);
  });
});
