import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/**
 * Chat channels: every inbound message (stored before anything else happens), each channel's cursor, the
 * conversation → session map, paired identities, and the outbox that sends each reply at most once.
 */
export const migration0004: Migration = {
  version: 4,
  name: 'channels',
  up(db: Database): void {
    db.exec(`
      CREATE TABLE inbound_messages (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        external_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        is_group INTEGER NOT NULL,
        sender TEXT NOT NULL,
        sender_name TEXT,
        is_from_me INTEGER NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        attachments_json TEXT NOT NULL,
        addresses_assistant INTEGER NOT NULL,
        sent_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'stored',
        role TEXT,
        session_id TEXT,
        UNIQUE (channel, external_id)
      ) STRICT;
      CREATE INDEX inbound_status ON inbound_messages (status, id);
      CREATE INDEX inbound_conversation ON inbound_messages (channel, conversation_id, sent_at);

      CREATE TABLE channel_cursors (
        channel TEXT PRIMARY KEY,
        cursor TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE conversations (
        channel TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        is_group INTEGER NOT NULL,
        title TEXT,
        session_id TEXT,
        last_message_at INTEGER NOT NULL,
        PRIMARY KEY (channel, conversation_id)
      ) STRICT;

      CREATE TABLE identities (
        channel TEXT NOT NULL,
        identity TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('owner', 'contact')),
        display_name TEXT,
        added_at INTEGER NOT NULL,
        added_by TEXT NOT NULL,
        PRIMARY KEY (channel, identity)
      ) STRICT;

      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        channel TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        text TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'uncertain', 'held')),
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        sent_at INTEGER
      ) STRICT;
      CREATE INDEX outbox_status ON outbox (status, id);
      CREATE INDEX outbox_conversation ON outbox (channel, conversation_id, sent_at);
    `);
  },
};
