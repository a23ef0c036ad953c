import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/**
 * Conversations. `messages.content` holds the whole Message as JSON (the source of truth for replay);
 * `tool_calls` and `usage` are derived rows for querying, written in the same transaction.
 * Timestamps are integer milliseconds since the epoch.
 */
export const migration0001: Migration = {
  version: 1,
  name: 'sessions',
  up(db: Database): void {
    db.exec(`
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY NOT NULL,
        key TEXT NOT NULL,
        title TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX sessions_key_updated ON sessions (key, updated_at);

      CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'toolResult')),
        provenance TEXT CHECK (provenance IS NULL OR json_valid(provenance)),
        content TEXT NOT NULL CHECK (json_valid(content)),
        created_at INTEGER NOT NULL,
        UNIQUE (session_id, seq)
      ) STRICT;

      CREATE TABLE tool_calls (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        call_id TEXT NOT NULL,
        name TEXT NOT NULL,
        input TEXT NOT NULL CHECK (json_valid(input)),
        is_error INTEGER CHECK (is_error IN (0, 1)),
        result_message_id INTEGER REFERENCES messages (id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX tool_calls_session_call ON tool_calls (session_id, call_id);
      CREATE INDEX tool_calls_message ON tool_calls (message_id);
      CREATE INDEX tool_calls_result_message ON tool_calls (result_message_id);

      CREATE TABLE usage (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX usage_session ON usage (session_id);
      CREATE INDEX usage_message ON usage (message_id);
    `);
  },
};
