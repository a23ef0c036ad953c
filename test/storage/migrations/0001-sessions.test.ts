import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../main/storage/migrations/index.js';

let dir: string;
let db: BetterSqlite3.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-m0001-'));
  db = new BetterSqlite3(join(dir, 'pavise.db'));
  db.pragma('foreign_keys = ON');
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const columns = (table: string): string[] =>
  (db.pragma(`table_info(${table})`) as { name: string }[]).map((column) => column.name);
const version = () => db.pragma('user_version', { simple: true });

describe('migration 0001-sessions', () => {
  it('creates sessions, messages, tool_calls and usage on an empty database', () => {
    migrate(db, 0);
    expect(version()).toBe(0);
    expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get()).toEqual({ n: 0 });

    expect(migrate(db, 1)).toBe(1);
    expect(version()).toBe(1);
    expect(columns('sessions')).toEqual(['id', 'key', 'title', 'created_at', 'updated_at']);
    expect(columns('messages')).toEqual(['id', 'session_id', 'seq', 'role', 'provenance', 'content', 'created_at']);
    expect(columns('tool_calls')).toEqual([
      'id',
      'session_id',
      'message_id',
      'call_id',
      'name',
      'input',
      'is_error',
      'result_message_id',
      'created_at',
    ]);
    expect(columns('usage')).toEqual([
      'id',
      'session_id',
      'message_id',
      'provider',
      'model',
      'input_tokens',
      'output_tokens',
      'cache_read_tokens',
      'cache_write_tokens',
      'created_at',
    ]);
    expect(db.pragma('index_info(sessions_key_updated)')).toEqual([
      expect.objectContaining({ name: 'key' }),
      expect.objectContaining({ name: 'updated_at' }),
    ]);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'notes'").get()).toBeUndefined();
  });

  it('enforces keys, uniqueness of (session_id, seq), JSON columns and integer timestamps', () => {
    migrate(db, 1);
    db.prepare('INSERT INTO sessions (id, key, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run('s1', 'cli', null, 10, 10);
    const insertMessage = db.prepare(
      'INSERT INTO messages (session_id, seq, role, provenance, content, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const { lastInsertRowid } = insertMessage.run('s1', 1, 'user', '{"kind":"owner"}', '{"role":"user"}', 11);

    expect(() => insertMessage.run('s1', 1, 'user', null, '{}', 12)).toThrow(/UNIQUE/);
    expect(() => insertMessage.run('nope', 1, 'user', null, '{}', 12)).toThrow(/FOREIGN KEY/);
    expect(() => insertMessage.run('s1', 2, 'system', null, '{}', 12)).toThrow(/CHECK/);
    expect(() => insertMessage.run('s1', 2, 'user', null, 'not json', 12)).toThrow(/CHECK/);
    expect(() => insertMessage.run('s1', 2, 'user', null, '{}', 'yesterday')).toThrow(/cannot store TEXT/);

    db.prepare(
      'INSERT INTO tool_calls (session_id, message_id, call_id, name, input, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run('s1', lastInsertRowid, 'c1', 'current_time', '{}', 12);
    db.prepare(
      `INSERT INTO usage (session_id, message_id, provider, model, input_tokens, output_tokens, cache_read_tokens,
                          cache_write_tokens, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run('s1', lastInsertRowid, 'anthropic', 'claude', 1, 2, 3, 4, 12);

    db.prepare('DELETE FROM sessions WHERE id = ?').run('s1');
    for (const table of ['messages', 'tool_calls', 'usage']) {
      expect(db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()).toEqual({ n: 0 });
    }
  });
});
