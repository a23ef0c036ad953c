import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DatabaseError, type DatabaseErrorCode } from './database-error.js';
import { assertNotNewer, LATEST_VERSION, migrate, schemaVersion } from './migrations/index.js';
import { cacheStatements } from './statement-cache.js';

export { DatabaseError, type DatabaseErrorCode } from './database-error.js';

export type Database = BetterSqlite3.Database;

export interface OpenDatabaseOptions {
  /** Opens an existing, fully migrated database without creating, chmodding or migrating anything. */
  readonly readonly?: boolean;
  /** How long a statement waits for another connection's lock before failing; tests shorten it. */
  readonly busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 2000;
const MEMORY = ':memory:';
/**
 * SQLite's page cache per connection, in KiB. better-sqlite3 builds SQLite with 16 MiB per connection; the gateway
 * touches every page of a growing database during a flood, and memory malloc has handed out stays in the process.
 */
const PAGE_CACHE_KIB = 2048;

/**
 * Opens (creating if needed, with mode 0600 in a 0700 folder) the Pavise database and brings its schema to the
 * latest version. Every failure to open is a thrown `DatabaseError` whose message tells the owner what to do.
 * `':memory:'` opens a private in-memory database (tests).
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Database {
  const readonly = options.readonly === true;
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new RangeError(`busyTimeoutMs must be a non-negative integer, not ${busyTimeoutMs}.`);
  }
  if (readonly && path === MEMORY) throw new TypeError('An in-memory database cannot be opened read-only.');

  if (readonly && !existsSync(path)) {
    throw new DatabaseError('io', `There is no Pavise database at ${path} yet; start Pavise once to create it, then try again.`);
  }

  let db: Database | undefined;
  try {
    if (!readonly && path !== MEMORY) createPrivateFile(path);
    db = new BetterSqlite3(path, { readonly, fileMustExist: readonly, timeout: busyTimeoutMs });
    cacheStatements(db);
    // PRAGMA takes no bound parameters; every value below is a checked integer or a fixed keyword.
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Before anything is changed: a newer build's database is left exactly as it is.
    assertNotNewer(db);
    if (readonly) {
      db.pragma('query_only = ON');
    } else if (path !== MEMORY) {
      const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
      if (mode !== 'wal') {
        throw new DatabaseError(
          'io',
          `The Pavise database at ${path} cannot use write-ahead logging (SQLite chose "${mode}"); move it to a local disk and try again.`,
        );
      }
    }
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`cache_size = ${-PAGE_CACHE_KIB}`);
    if (readonly) {
      const version = schemaVersion(db);
      if (version < LATEST_VERSION) {
        throw new DatabaseError(
          'io',
          `The Pavise database at ${path} has not been upgraded to this version yet (schema ${version} of ${LATEST_VERSION}); start Pavise once normally, then try again.`,
        );
      }
    } else {
      migrate(db);
    }
    return db;
  } catch (error) {
    db?.close();
    throw toDatabaseError(error, path);
  }
}

/**
 * Maps a SQLite or file-system failure to a `DatabaseError`; anything else (a programming error) is returned as is.
 */
export function toDatabaseError(error: unknown, path: string): unknown {
  if (error instanceof DatabaseError) return error;
  const code = classify(error);
  if (code === undefined) return error;
  return new DatabaseError(code, messageFor(code, path, error), { cause: error });
}

function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // The umask may have widened the mode, or an older file may be too open; the database holds private messages.
  chmodSync(path, 0o600);
}

function classify(error: unknown): DatabaseErrorCode | undefined {
  if (error instanceof BetterSqlite3.SqliteError) {
    const code = error.code;
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'locked';
    if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) return 'corrupt';
    return 'io';
  }
  // Node's file-system errors carry the failing syscall.
  if (error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string') return 'io';
  return undefined;
}

function messageFor(code: DatabaseErrorCode, path: string, error: unknown): string {
  switch (code) {
    case 'locked':
      return `The Pavise database at ${path} is locked by another process; close the other Pavise and try again.`;
    case 'corrupt':
      return `The file at ${path} is not a readable Pavise database; move it aside (or restore a backup) and start Pavise again.`;
    case 'newer_schema':
      return `The Pavise database at ${path} was written by a newer Pavise; update Pavise to open it.`;
    case 'io': {
      const detail = error instanceof Error ? error.message : String(error);
      return `The Pavise database at ${path} could not be opened (${detail}); check that its folder exists and is writable, then try again.`;
    }
  }
}
