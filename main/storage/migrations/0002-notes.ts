import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/** Notes the owner (or the assistant on the owner's behalf) saved; `session_id` records where, when known. */
export const migration0002: Migration = {
  version: 2,
  name: 'notes',
  up(db: Database): void {
    db.exec(`
      CREATE TABLE notes (
        id INTEGER PRIMARY KEY,
        text TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        session_id TEXT REFERENCES sessions (id) ON DELETE SET NULL
      ) STRICT;
      CREATE INDEX notes_created ON notes (created_at);
      CREATE INDEX notes_session ON notes (session_id);
    `);
  },
};
