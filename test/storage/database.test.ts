import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseError, openDatabase, type Database } from '../../main/storage/database.js';
import { LATEST_VERSION } from '../../main/storage/migrations/index.js';

const dirs: string[] = [];
const open: { close(): unknown }[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
  for (const db of open.splice(0)) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'pavise-db-'));
  dirs.push(dir);
  return dir;
};
const track = <T extends { close(): unknown }>(db: T): T => {
  open.push(db);
  return db;
};

const errorOf = (fn: () => unknown): DatabaseError => {
  try {
    track(fn() as Database);
  } catch (error) {
    if (error instanceof DatabaseError) return error;
    throw error;
  }
  throw new Error('expected a DatabaseError');
};

const tables = (db: Database): string[] =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map(
    (row) => row.name,
  );

/** Holds a lock on `path` from another process until killed; resolves once the lock is held. */
function lockInChild(path: string, script: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['-e', `const D = require('better-sqlite3'); const db = new D(process.argv[1]); ${script}; process.stdout.write('held\\n'); setInterval(() => {}, 1000);`, path],
    { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('held')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`lock holder exited (${code}): ${stderr}`)));
  });
}

describe('openDatabase', () => {
  it('creates the file with mode 0600 and WAL journaling, and sets the connection pragmas', () => {
    const path = join(tempDir(), 'pavise.db');
    const db = track(openDatabase(path));
    db.prepare('INSERT INTO sessions (id, key, created_at, updated_at) VALUES (?, ?, ?, ?)').run('s', 'cli', 1, 1);

    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('busy_timeout', { simple: true })).toBe(2000);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    expect(tables(db)).toEqual(expect.arrayContaining(['messages', 'notes', 'sessions', 'tool_calls', 'usage']));
  });

  it('creates a missing folder and tightens an existing file that is too open', () => {
    const dir = join(tempDir(), 'nested', 'home');
    const path = join(dir, 'pavise.db');
    openDatabase(path).close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);

    const loose = join(tempDir(), 'loose.db');
    writeFileSync(loose, '', { mode: 0o644 });
    track(openDatabase(loose));
    expect(statSync(loose).mode & 0o777).toBe(0o600);
  });

  it('keeps data across a close and reopen, migrating only once', () => {
    const path = join(tempDir(), 'pavise.db');
    const first = openDatabase(path);
    first.prepare('INSERT INTO notes (text, created_at) VALUES (?, ?)').run('kept', 5);
    first.close();
    const second = track(openDatabase(path));
    expect(second.prepare('SELECT text FROM notes').all()).toEqual([{ text: 'kept' }]);
    expect(second.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
  });

  it('lets two connections work side by side in WAL mode', () => {
    const path = join(tempDir(), 'pavise.db');
    const writer = track(openDatabase(path));
    const reader = track(openDatabase(path));
    writer.prepare('INSERT INTO notes (text, created_at) VALUES (?, ?)').run('seen', 1);
    expect(reader.prepare('SELECT COUNT(*) AS n FROM notes').get()).toEqual({ n: 1 });
  });

  it('opens read-only without creating or migrating, and refuses writes', () => {
    const dir = tempDir();
    const missing = errorOf(() => openDatabase(join(dir, 'missing.db'), { readonly: true }));
    expect(missing.code).toBe('io');
    expect(missing.message).toMatch(/^There is no Pavise database at .*; start Pavise once to create it/);
    expect(() => statSync(join(dir, 'missing.db'))).toThrow();

    const path = join(dir, 'pavise.db');
    openDatabase(path).close();
    const db = track(openDatabase(path, { readonly: true }));
    expect(db.prepare('SELECT COUNT(*) AS n FROM sessions').get()).toEqual({ n: 0 });
    expect(() => db.prepare('INSERT INTO notes (text, created_at) VALUES (?, ?)').run('x', 1)).toThrow();
  });

  it('refuses a read-only open of a database that still needs migrating', () => {
    const path = join(tempDir(), 'old.db');
    const raw = new BetterSqlite3(path);
    raw.exec('CREATE TABLE t (x)');
    raw.close();
    const error = errorOf(() => openDatabase(path, { readonly: true }));
    expect(error.code).toBe('io');
    expect(error.message).toMatch(/start Pavise once normally/);
  });

  it('reports a database locked by another process as "locked"', async () => {
    const path = join(tempDir(), 'pavise.db');
    // Another Pavise in the middle of creating the schema: it holds the write lock on a fresh file.
    await lockInChild(path, "db.pragma('journal_mode = WAL'); db.exec('BEGIN EXCLUSIVE')");

    const started = Date.now();
    const error = errorOf(() => openDatabase(path, { busyTimeoutMs: 200 }));
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error.code).toBe('locked');
    expect(error.message).toBe(
      `The Pavise database at ${path} is locked by another process; close the other Pavise and try again.`,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('reports an exclusively locked WAL database held by a second connection as "locked"', () => {
    const path = join(tempDir(), 'pavise.db');
    openDatabase(path).close();
    const holder = track(new BetterSqlite3(path));
    holder.pragma('locking_mode = EXCLUSIVE');
    holder.exec('BEGIN EXCLUSIVE');

    expect(errorOf(() => openDatabase(path, { busyTimeoutMs: 100 })).code).toBe('locked');
  });

  it('reports a rollback-journal database under BEGIN EXCLUSIVE as "locked"', () => {
    const path = join(tempDir(), 'pavise.db');
    const holder = track(new BetterSqlite3(path));
    holder.exec('CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);');

    expect(errorOf(() => openDatabase(path, { busyTimeoutMs: 100 })).code).toBe('locked');
  });

  it('reports a file that is not SQLite as "corrupt" and leaves its content alone', () => {
    const path = join(tempDir(), 'pavise.db');
    const garbage = 'this is not a database, just some text. '.repeat(200);
    writeFileSync(path, garbage);

    const error = errorOf(() => openDatabase(path));
    expect(error.code).toBe('corrupt');
    expect(error.message).toMatch(/^The file at .* is not a readable Pavise database; move it aside/);
    expect(readFileSync(path, 'utf8')).toBe(garbage);
  });

  it('reports a schema newer than this build as "newer_schema" without touching it', () => {
    const path = join(tempDir(), 'pavise.db');
    const raw = new BetterSqlite3(path);
    raw.pragma(`user_version = ${LATEST_VERSION + 1}`);
    raw.close();

    const error = errorOf(() => openDatabase(path));
    expect(error.code).toBe('newer_schema');
    expect(error.message).toMatch(/newer Pavise .*update Pavise to open it\.$/);
    expect(errorOf(() => openDatabase(path, { readonly: true })).code).toBe('newer_schema');

    const after = track(new BetterSqlite3(path));
    expect(after.pragma('user_version', { simple: true })).toBe(LATEST_VERSION + 1);
    expect(tables(after)).toEqual([]);
    expect(after.pragma('journal_mode', { simple: true })).toBe('delete');
  });

  it('reports a path that cannot hold a database as "io"', () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, '');
    const error = errorOf(() => openDatabase(join(file, 'pavise.db')));
    expect(error.code).toBe('io');
    expect(error.message).toMatch(/could not be opened .*; check that its folder exists and is writable, then try again\.$/);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('opens a private in-memory database for tests', () => {
    const db = track(openDatabase(':memory:'));
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });
});
