import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../main/storage/migrations/index.js';
import { MemoryStore } from '../../../main/storage/memory-store.js';

let db: BetterSqlite3.Database;
beforeEach(() => {
  db = new BetterSqlite3(':memory:');
});
afterEach(() => db.close());

const indexes = () =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'memory_items' AND sql IS NOT NULL ORDER BY name`).all() as { name: string }[]).map(
    (row) => row.name,
  );
const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((row) => row.detail).join('\n');

describe('migration 0013-memory-import-speed', () => {
  it('drops the index on memory_items.at and keeps the conversation index and every item', () => {
    migrate(db, 12);
    expect(indexes()).toEqual(['memory_items_at', 'memory_items_conversation']);
    new MemoryStore(db).ingest([
      { kind: 'message', channel: 'imessage', conversation: 'c', guid: 'g1', sender: '+1555', fromOwner: false, isGroup: false, text: 'lunch on friday', at: 5, provenance: { kind: 'owner' } },
    ]);
    expect(migrate(db, 13)).toBe(13);
    expect(indexes()).toEqual(['memory_items_conversation']);
    expect(new MemoryStore(db).textSearch('lunch', { limit: 5, from: 1, to: 10 }).map((match) => match.id)).toHaveLength(1);
  });

  it('no memory statement wanted it: a date-bounded search is driven by the full-text index, neighbours by the conversation index', () => {
    migrate(db, 12);
    const bounded = `SELECT f.rowid FROM memory_fts f JOIN memory_items i ON i.id = f.rowid WHERE memory_fts MATCH 'lunch' AND i.at BETWEEN 1 AND 2`;
    const neighbours = `SELECT x.id FROM memory_items x WHERE x.channel = 'imessage' AND x.conversation = 'c' AND (x.at, x.id) < (5, 1) ORDER BY x.at DESC, x.id DESC LIMIT 3`;
    expect(plan(bounded)).not.toContain('memory_items_at');
    expect(plan(neighbours)).toContain('memory_items_conversation');
  });
});
