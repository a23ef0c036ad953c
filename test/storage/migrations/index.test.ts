import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseError } from '../../../main/storage/database.js';
import {
  LATEST_VERSION,
  MIGRATIONS,
  migrate,
  migrationFileName,
  type Migration,
} from '../../../main/storage/migrations/index.js';

let dir: string;
let db: BetterSqlite3.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-migrate-'));
  db = new BetterSqlite3(join(dir, 'pavise.db'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const version = () => db.pragma('user_version', { simple: true });
const hasTable = (name: string) =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

describe('migrate', () => {
  it('lists migrations in order, numbered from 1 without gaps, with kebab-case names', () => {
    expect(MIGRATIONS.map((migration) => migration.version)).toEqual(MIGRATIONS.map((_, index) => index + 1));
    expect(LATEST_VERSION).toBe(MIGRATIONS.length);
    for (const migration of MIGRATIONS) expect(migrationFileName(migration)).toMatch(/^\d{4}-[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(migrationFileName(MIGRATIONS[0] as Migration)).toBe('0001-sessions');
  });

  it('goes to the latest version by default and is idempotent', () => {
    expect(migrate(db)).toBe(LATEST_VERSION);
    expect(migrate(db)).toBe(LATEST_VERSION);
    expect(version()).toBe(LATEST_VERSION);
  });

  it('never goes down', () => {
    migrate(db, 2);
    expect(migrate(db, 1)).toBe(2);
    expect(hasTable('notes')).toBe(true);
  });

  it('rolls a failing migration back completely and keeps the earlier ones', () => {
    const broken: Migration[] = [
      { version: 1, name: 'one', up: (target) => target.exec('CREATE TABLE one (x INTEGER)') },
      {
        version: 2,
        name: 'two',
        up: (target) => {
          target.exec('CREATE TABLE two (x INTEGER)');
          throw new Error('boom');
        },
      },
    ];
    expect(() => migrate(db, undefined, broken)).toThrow('boom');
    expect(version()).toBe(1);
    expect(hasTable('one')).toBe(true);
    expect(hasTable('two')).toBe(false);
  });

  it('refuses to commit a migration that leaves foreign key violations', () => {
    const bad: Migration[] = [
      {
        version: 1,
        name: 'dangling',
        up: (target) =>
          target.exec(`
            CREATE TABLE parent (id INTEGER PRIMARY KEY);
            CREATE TABLE child (parent_id INTEGER REFERENCES parent (id));
            INSERT INTO child VALUES (42);
          `),
      },
    ];
    db.pragma('foreign_keys = ON');
    expect(() => migrate(db, undefined, bad)).toThrow(/foreign key violation/);
    expect(version()).toBe(0);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('rejects out-of-order migrations and targets beyond the latest', () => {
    const gap: Migration[] = [{ version: 2, name: 'two', up: () => undefined }];
    expect(() => migrate(db, undefined, gap)).toThrow(/out of order/);
    expect(() => migrate(db, LATEST_VERSION + 1)).toThrow(RangeError);
  });

  it('throws DatabaseError newer_schema for a database from a newer build', () => {
    db.pragma(`user_version = ${LATEST_VERSION + 3}`);
    let caught: unknown;
    try {
      migrate(db);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DatabaseError);
    expect((caught as DatabaseError).code).toBe('newer_schema');
  });
});
