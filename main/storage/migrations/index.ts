import type { Database } from 'better-sqlite3';
import { DatabaseError } from '../database-error.js';
import { migration0001 } from './0001-sessions.js';
import { migration0002 } from './0002-notes.js';
import { migration0003 } from './0003-permissions.js';
import { migration0004 } from './0004-channels.js';
import { migration0005 } from './0005-provenance.js';
import { migration0011 } from './0011-jobs.js';
import { migration0012 } from './0012-delivery-receipts.js';
import { migration0013 } from './0013-memory-import-speed.js';
import { migration0014 } from './0014-sent-labels.js';
import { migration0015 } from './0015-notices.js';
import { migration0016 } from './0016-echoes-from-others.js';
import { migration0017 } from './0017-forward-labels.js';
import { migration0018 } from './0018-reindex-relabelled.js';
import { migration0008 } from './0008-skills.js';
import { migration0006 } from './0006-memory.js';
import { migration0007 } from './0007-memories.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

/** Ordered by version, contiguous from 1. */
export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002, migration0003, migration0004, migration0005, migration0006, migration0007, migration0008, ...reservedFrom(9, 11), migration0011, migration0012, migration0013, migration0014, migration0015, migration0016, migration0017, migration0018];

/**
 * Numbers handed to work merged separately keep the list contiguous until their migrations land; the merge replaces
 * each placeholder with the real migration of that number. A placeholder changes nothing.
 */
function reservedFrom(first: number, next: number): Migration[] {
  return Array.from({ length: next - first }, (_, index) => ({ version: first + index, name: 'reserved', up: () => undefined }));
}

export const LATEST_VERSION: number = MIGRATIONS.at(-1)?.version ?? 0;

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the schema up to `target` (default: the latest) and returns the resulting version. Each migration runs in
 * its own `BEGIN IMMEDIATE` transaction that re-reads the version, so two processes migrating at once apply each
 * step exactly once. Foreign keys are off while migrating (so a migration may rebuild a table) and checked before
 * each commit. There are no down-migrations: a target below the current version changes nothing. A database newer
 * than `migrations` throws `DatabaseError('newer_schema')`.
 */
export function migrate(db: Database, target?: number, migrations: readonly Migration[] = MIGRATIONS): number {
  checkOrder(migrations);
  const latest = migrations.at(-1)?.version ?? 0;
  const goal = target ?? latest;
  if (!Number.isInteger(goal) || goal < 0 || goal > latest) {
    throw new RangeError(`Migration target ${goal} is not between 0 and ${latest}.`);
  }
  assertNotNewer(db, latest);

  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  try {
    for (const migration of migrations) {
      if (migration.version > goal) break;
      if (migration.version <= schemaVersion(db)) continue;
      db.transaction(() => {
        const current = schemaVersion(db);
        if (current > latest) throw newerSchemaError(db, current, latest);
        if (current >= migration.version) return;
        migration.up(db);
        const violations = db.pragma('foreign_key_check') as unknown[];
        if (violations.length > 0) {
          throw new Error(`Migration ${migrationFileName(migration)} left ${violations.length} foreign key violation(s).`);
        }
        // PRAGMA takes no bound parameters; the version is an integer checked by checkOrder, never outside input.
        db.pragma(`user_version = ${migration.version}`);
      }).immediate();
    }
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
  return schemaVersion(db);
}

export function assertNotNewer(db: Database, latest: number = LATEST_VERSION): void {
  const current = schemaVersion(db);
  if (current > latest) throw newerSchemaError(db, current, latest);
}

export function migrationFileName(migration: Migration): string {
  return `${String(migration.version).padStart(4, '0')}-${migration.name}`;
}

function newerSchemaError(db: Database, current: number, latest: number): DatabaseError {
  return new DatabaseError(
    'newer_schema',
    `The Pavise database at ${db.name} was written by a newer Pavise (schema ${current}, this build knows ${latest}); update Pavise to open it.`,
  );
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (!Number.isSafeInteger(migration.version) || migration.version !== index + 1) {
      throw new Error(`Migration ${migrationFileName(migration)} is out of order: expected version ${index + 1}.`);
    }
  });
}
