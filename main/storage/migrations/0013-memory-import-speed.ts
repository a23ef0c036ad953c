import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/**
 * Drops 0006's `memory_items_at`: no statement uses it (a date-bounded search is driven by the full-text index and
 * reads each hit's `at` through its primary key; neighbours use `memory_items_conversation`), and keeping it cost
 * every stored item an index insert, about a twentieth of a chat.db import.
 */
export const migration0013: Migration = {
  version: 13,
  name: 'memory-import-speed',
  up(db: Database): void {
    db.exec('DROP INDEX IF EXISTS memory_items_at');
  },
};
