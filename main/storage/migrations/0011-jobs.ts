import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/**
 * Scheduled jobs (reminders, briefings, alerts, scheduled turns) and their runs. A run is unique per job and due
 * time: claiming it is an INSERT that succeeds once, so a crash or a second process never fires an occurrence twice.
 * `provenance` is the creator's label; a job runs as trusted as whoever made it.
 */
export const migration0011: Migration = {
  version: 11,
  name: 'jobs',
  up(db: Database): void {
    db.exec(`
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('reminder', 'briefing', 'alert', 'turn')),
        title TEXT NOT NULL,
        payload TEXT NOT NULL,
        schedule TEXT NOT NULL,
        time_zone TEXT NOT NULL,
        next_run_at INTEGER,
        missed_policy TEXT NOT NULL CHECK (missed_policy IN ('skip', 'once', 'all')),
        urgent INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),
        provenance TEXT NOT NULL,
        deliver_to TEXT,
        status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'done', 'removed')),
        failures INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        session_id TEXT REFERENCES sessions (id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX jobs_due ON jobs (status, next_run_at);
      CREATE TABLE job_runs (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        due_at INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'delivered', 'failed', 'skipped', 'nothing')),
        outbox_key TEXT,
        detail TEXT,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        UNIQUE (job_id, due_at)
      ) STRICT;
      CREATE INDEX job_runs_status ON job_runs (status);
    `);
  },
};
