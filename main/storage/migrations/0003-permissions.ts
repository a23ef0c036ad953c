import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/** Approvals, grants, the pause/breaker state, the HMAC-chained activity log and the outbound send ledger. */
export const migration0003: Migration = {
  version: 3,
  name: 'permissions',
  up(db: Database): void {
    db.exec(`
    CREATE TABLE approvals (
      id TEXT PRIMARY KEY,
      session_id TEXT,
      tool TEXT NOT NULL,
      input_json TEXT NOT NULL,
      effects_json TEXT NOT NULL,
      provenance_json TEXT NOT NULL,
      hash TEXT NOT NULL,
      title TEXT NOT NULL,
      reason TEXT NOT NULL,
      risk TEXT NOT NULL CHECK (risk IN ('low', 'medium', 'high')),
      grantable INTEGER NOT NULL DEFAULT 0,
      status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'used')),
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      decided_at INTEGER,
      decided_by TEXT,
      grant_minutes INTEGER,
      used_at INTEGER
    );
    CREATE INDEX approvals_status ON approvals (status, created_at);

    CREATE TABLE grants (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      target TEXT NOT NULL,
      approval_id TEXT REFERENCES approvals (id),
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    );
    CREATE INDEX grants_target ON grants (kind, target, expires_at);

    CREATE TABLE state (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    );

    CREATE TABLE activity (
      id INTEGER PRIMARY KEY,
      ts INTEGER NOT NULL,
      kind TEXT NOT NULL,
      session_id TEXT,
      tool TEXT,
      summary TEXT NOT NULL,
      decision TEXT,
      actor TEXT NOT NULL,
      detail_json TEXT NOT NULL,
      mac TEXT NOT NULL
    );
    CREATE INDEX activity_ts ON activity (ts);

    CREATE TABLE activity_head (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      count INTEGER NOT NULL,
      last_id INTEGER NOT NULL,
      last_mac TEXT NOT NULL,
      mac TEXT NOT NULL
    );

    CREATE TABLE sent_messages (
      id INTEGER PRIMARY KEY,
      ts INTEGER NOT NULL,
      channel TEXT NOT NULL,
      recipient TEXT NOT NULL
    );
    CREATE INDEX sent_messages_recipient ON sent_messages (channel, recipient, ts);
    CREATE INDEX sent_messages_ts ON sent_messages (ts);
  `);
  },
};
