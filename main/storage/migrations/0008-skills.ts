import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/**
 * Installed skills and MCP servers: each pinned by the SHA-256 of its reviewed content, with the permissions the
 * owner granted (JSON) and its state. A row, never a folder, is what makes a skill load.
 */
export const migration0008: Migration = {
  version: 8,
  name: 'skills',
  up(db: Database): void {
    db.exec(`
      CREATE TABLE skills (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('skill', 'mcp')),
        content_hash TEXT NOT NULL,
        granted_json TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('enabled', 'disabled', 'changed')),
        source TEXT NOT NULL,
        installed_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `);
  },
};
