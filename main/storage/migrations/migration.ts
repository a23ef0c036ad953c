import type { Database } from 'better-sqlite3';

/**
 * One schema step. `version` is the `PRAGMA user_version` the database has after `up` ran. A migration is never
 * edited after it lands; a change is a new migration.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Database): void;
}
