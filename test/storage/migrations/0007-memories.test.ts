import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../main/storage/migrations/index.js';

let dir: string;
let db: BetterSqlite3.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-m0007-'));
  db = new BetterSqlite3(join(dir, 'pavise.db'));
  db.pragma('foreign_keys = ON');
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const insertMemory = (text: string, supersededBy: number | null = null, provenance = '{"kind":"owner"}') =>
  Number(
    db
      .prepare(`INSERT INTO memories (text, provenance, origin, created_at, updated_at, superseded_by) VALUES (?, ?, 'owner', 1, 1, ?)`)
      .run(text, provenance, supersededBy).lastInsertRowid,
  );

describe('migration 0007-memories', () => {
  it('keeps what version 6 stored and adds memories, summaries and background usage', () => {
    migrate(db, 6);
    db.prepare(`INSERT INTO sessions (id, key, created_at, updated_at) VALUES ('s1', 'local', 1, 1)`).run();
    db.prepare(`INSERT INTO notes (text, created_at) VALUES ('old note', 1)`).run();
    expect(migrate(db, 7)).toBe(7);
    expect(db.prepare('SELECT count(*) AS n FROM sessions').get()).toEqual({ n: 1 });
    expect(db.prepare('SELECT text FROM notes').get()).toEqual({ text: 'old note' });
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((row) => row.name);
    expect(tables).toEqual(expect.arrayContaining(['memories', 'memory_sources', 'memories_fts', 'conversation_summaries', 'background_usage']));
  });

  it('refuses empty text and labels that are not JSON; forgetting the newest version deletes the chain and its sources', () => {
    migrate(db);
    expect(() => insertMemory('   ')).toThrow(/CHECK/);
    expect(() => insertMemory('fact', null, 'owner')).toThrow(/CHECK/);
    const newest = insertMemory("Mum's birthday is 13 March");
    const older = insertMemory("Mum's birthday is 12 March", newest);
    insertMemory("Mum's birthday is 11 March", older);
    db.prepare(`INSERT INTO memory_sources (memory_id, kind, ref) VALUES (?, 'message', 's1#4')`).run(older);
    expect(() => db.prepare(`INSERT INTO memory_sources (memory_id, kind, ref) VALUES (?, 'url', 'x')`).run(newest)).toThrow(/CHECK/);
    db.prepare('DELETE FROM memories WHERE id = ?').run(newest);
    expect(db.prepare('SELECT count(*) AS n FROM memories').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM memory_sources').get()).toEqual({ n: 0 });
  });

  it('keeps the full-text index in step with inserts, edits and deletes', () => {
    migrate(db);
    const id = insertMemory('Prefers window seats');
    const search = (word: string) => db.prepare(`SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?`).all(word) as { rowid: number }[];
    expect(search('seat')).toEqual([{ rowid: id }]);
    db.prepare(`UPDATE memories SET text = 'Prefers aisle seats' WHERE id = ?`).run(id);
    expect(search('window')).toEqual([]);
    expect(search('aisle')).toEqual([{ rowid: id }]);
    db.prepare('DELETE FROM memories WHERE id = ?').run(id);
    expect(search('aisle')).toEqual([]);
  });

  it('a summary goes with its session; background usage outlives it', () => {
    migrate(db);
    db.prepare(`INSERT INTO sessions (id, key, created_at, updated_at) VALUES ('s1', 'local', 1, 1)`).run();
    db.prepare(`INSERT INTO conversation_summaries (session_id, text, provenance, through_seq, updated_at) VALUES ('s1', 'sum', '{"kind":"owner"}', 4, 1)`).run();
    db.prepare(
      `INSERT INTO background_usage (session_id, purpose, provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, created_at)
       VALUES ('s1', 'memory-extraction', 'anthropic', 'm', 10, 5, 0, 0, 1)`,
    ).run();
    db.prepare(`DELETE FROM sessions WHERE id = 's1'`).run();
    expect(db.prepare('SELECT count(*) AS n FROM conversation_summaries').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT session_id, input_tokens FROM background_usage').get()).toEqual({ session_id: null, input_tokens: 10 });
  });
});
