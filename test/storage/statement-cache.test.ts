import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../main/storage/database.js';
import { cacheStatements } from '../../main/storage/statement-cache.js';

const open: BetterSqlite3.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function database(max?: number): BetterSqlite3.Database {
  const db = new BetterSqlite3(':memory:');
  open.push(db);
  cacheStatements(db, max);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t (name) VALUES ('a'), ('b'), ('c');");
  return db;
}

describe('cacheStatements', () => {
  it('hands out one statement per SQL text, so repeated prepares allocate nothing new', () => {
    const db = database();
    const first = db.prepare('SELECT name FROM t WHERE id = ?');
    expect(db.prepare('SELECT name FROM t WHERE id = ?')).toBe(first);
    expect(db.prepare('SELECT id FROM t WHERE id = ?')).not.toBe(first);
    expect(db.prepare('SELECT name FROM t WHERE id = ?').get(2)).toEqual({ name: 'b' });
  });

  it('returns a reused statement in the modes a fresh one has', () => {
    const db = database();
    expect(db.prepare('SELECT name FROM t ORDER BY id').pluck().all()).toEqual(['a', 'b', 'c']);
    expect(db.prepare('SELECT name FROM t ORDER BY id').all()).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    expect(db.prepare('SELECT name FROM t ORDER BY id').raw().all()).toEqual([['a'], ['b'], ['c']]);
    expect(db.prepare('SELECT name FROM t ORDER BY id').get()).toEqual({ name: 'a' });
  });

  it('never hands out a statement that is still iterating', () => {
    const db = database();
    const sql = 'SELECT id FROM t ORDER BY id';
    const seen: number[][] = [];
    for (const outer of db.prepare(sql).iterate() as Iterable<{ id: number }>) {
      seen.push((db.prepare(sql).all() as { id: number }[]).map((row) => row.id * 10 + outer.id));
    }
    expect(seen).toEqual([
      [11, 21, 31],
      [12, 22, 32],
      [13, 23, 33],
    ]);
  });

  it('keeps only the most recently used statements', () => {
    const db = database(2);
    const a = db.prepare('SELECT 1');
    const b = db.prepare('SELECT 2');
    expect(db.prepare('SELECT 1')).toBe(a); // now the most recent
    db.prepare('SELECT 3'); // evicts SELECT 2, the least recently used
    expect(db.prepare('SELECT 1')).toBe(a);
    expect(db.prepare('SELECT 2')).not.toBe(b);
  });

  it('refuses a cache size that is not a positive integer, saying what it must be', () => {
    const db = new BetterSqlite3(':memory:');
    open.push(db);
    expect(() => cacheStatements(db, 0)).toThrow('The statement cache size must be a positive integer, not 0.');
  });

  it('is how openDatabase prepares', () => {
    const db = openDatabase(':memory:');
    open.push(db);
    expect(db.prepare('SELECT COUNT(*) AS n FROM sessions')).toBe(db.prepare('SELECT COUNT(*) AS n FROM sessions'));
  });
});
