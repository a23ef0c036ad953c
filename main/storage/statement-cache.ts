import type BetterSqlite3 from 'better-sqlite3';

export const STATEMENT_CACHE_SIZE = 256;

/**
 * Makes `db.prepare(sql)` hand out one statement per SQL text (the `max` most recently used are kept) instead of a
 * new one per call. The reason is memory: a prepared statement's SQLite memory (a few KB) lives outside V8's heap
 * until its Statement object is collected, and V8 does not count it, so code that prepares on every call grows the
 * process by hundreds of MB under load before any collection comes (10,000 inbound messages took the gateway past
 * 1 GB, and glibc keeps what it got). A statement that is still iterating is never handed out twice (the caller
 * gets a fresh one), and a reused statement is returned in the modes a fresh one has (no pluck, expand or raw).
 */
export function cacheStatements(db: BetterSqlite3.Database, max = STATEMENT_CACHE_SIZE): void {
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`The statement cache size must be a positive integer, not ${max}.`);
  const prepare = db.prepare.bind(db) as (sql: string) => BetterSqlite3.Statement;
  const cache = new Map<string, BetterSqlite3.Statement>();
  const cached = (sql: string): BetterSqlite3.Statement => {
    const hit = cache.get(sql);
    if (hit !== undefined && !hit.busy) {
      // Map order is the recency order: the first key is the least recently used.
      cache.delete(sql);
      cache.set(sql, hit);
      if (hit.reader) hit.pluck(false).expand(false).raw(false);
      return hit;
    }
    const statement = prepare(sql);
    if (hit === undefined) {
      cache.set(sql, statement);
      if (cache.size > max) cache.delete(cache.keys().next().value as string);
    }
    return statement;
  };
  db.prepare = cached as BetterSqlite3.Database['prepare'];
}
