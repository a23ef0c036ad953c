import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/**
 * Long-term memories and the running summary of each conversation (context under a budget).
 *
 * A memory is one fact about the owner and their world, labelled with who its words came from (invariant 4). A
 * contradicted memory is not deleted but points at the memory that replaced it (`superseded_by`); forgetting the
 * newest deletes the whole chain (ON DELETE CASCADE), because forgetting a fact means every version of it.
 * `memory_sources` names the items a memory was made from: a stored session message, or a memory item of the
 * recall store. `memories_fts` indexes the text for choosing the memories relevant to a turn.
 *
 * `conversation_summaries` holds, per session, the summary of its messages up to `through_seq`, labelled as the least
 * trusted of what it summarised. `background_usage` records model calls made outside a turn (extraction when a
 * conversation is compacted), so they count against the daily spend cap like every other call.
 */
export const migration0007: Migration = {
  version: 7,
  name: 'memories',
  up(db: Database): void {
    db.exec(`
      CREATE TABLE memories (
        id INTEGER PRIMARY KEY,
        text TEXT NOT NULL CHECK (length(trim(text)) > 0),
        subject TEXT,
        provenance TEXT NOT NULL CHECK (json_valid(provenance)),
        origin TEXT NOT NULL CHECK (origin IN ('tool', 'owner', 'extraction')),
        session_id TEXT REFERENCES sessions (id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        superseded_by INTEGER REFERENCES memories (id) ON DELETE CASCADE
      ) STRICT;
      CREATE INDEX memories_current ON memories (superseded_by, updated_at);
      CREATE INDEX memories_subject ON memories (subject) WHERE subject IS NOT NULL;
      CREATE INDEX memories_superseded_by ON memories (superseded_by);

      CREATE TABLE memory_sources (
        memory_id INTEGER NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('message', 'item')),
        ref TEXT NOT NULL,
        PRIMARY KEY (memory_id, kind, ref)
      ) STRICT;

      CREATE VIRTUAL TABLE memories_fts USING fts5 (text, content = 'memories', content_rowid = 'id', tokenize = 'porter unicode61');
      CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
        INSERT INTO memories_fts (rowid, text) VALUES (new.id, new.text);
      END;
      CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
        INSERT INTO memories_fts (memories_fts, rowid, text) VALUES ('delete', old.id, old.text);
      END;
      CREATE TRIGGER memories_fts_update AFTER UPDATE OF text ON memories BEGIN
        INSERT INTO memories_fts (memories_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO memories_fts (rowid, text) VALUES (new.id, new.text);
      END;

      CREATE TABLE conversation_summaries (
        session_id TEXT PRIMARY KEY NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        provenance TEXT NOT NULL CHECK (json_valid(provenance)),
        through_seq INTEGER NOT NULL CHECK (through_seq >= 0),
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE background_usage (
        id INTEGER PRIMARY KEY,
        session_id TEXT REFERENCES sessions (id) ON DELETE SET NULL,
        purpose TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX background_usage_created ON background_usage (created_at);
    `);
  },
};
