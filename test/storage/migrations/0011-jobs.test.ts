import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../main/storage/migrations/index.js';
import { openDatabase } from '../../../main/storage/database.js';
import { JobStore, type NewJob } from '../../../main/storage/job-store.js';

let dir: string;
let db: BetterSqlite3.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-m0011-'));
  db = new BetterSqlite3(join(dir, 'pavise.db'));
  db.pragma('foreign_keys = ON');
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const reminder: NewJob = {
  kind: 'reminder',
  title: 'call mum',
  payload: { text: 'call mum' },
  schedule: { type: 'once', at: 5_000 },
  timeZone: 'UTC',
  nextRunAt: 5_000,
  missedPolicy: 'once',
  urgent: true,
  provenance: { kind: 'owner' },
};

describe('migration 0011-jobs', () => {
  it('adds jobs and job_runs and keeps what version 5 wrote', () => {
    migrate(db, 5);
    db.prepare('INSERT INTO sessions (id, key, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run('s1', 'cli', 'Plans', 10, 20);
    expect(migrate(db, 11)).toBe(11);
    const columns = (table: string) => (db.pragma(`table_info(${table})`) as { name: string }[]).map((column) => column.name);
    expect(columns('jobs')).toContain('next_run_at');
    expect(columns('job_runs')).toEqual(['id', 'job_id', 'due_at', 'status', 'outbox_key', 'detail', 'started_at', 'finished_at']);
    expect(db.prepare('SELECT id FROM sessions').all()).toEqual([{ id: 's1' }]);
    expect(() => db.prepare(`INSERT INTO jobs (kind, title, payload, schedule, time_zone, missed_policy, provenance, status, created_at, updated_at) VALUES ('x', '', '{}', '{}', 'UTC', 'once', '{}', 'active', 1, 1)`).run()).toThrow(/CHECK/);
  });

  it('claims an occurrence once across two connections (two processes), and moves the job on in the same step', () => {
    db.close();
    const path = join(dir, 'pavise.db');
    const first = openDatabase(path);
    const second = openDatabase(path);
    db = new BetterSqlite3(path);
    const a = new JobStore(first);
    const b = new JobStore(second);
    const job = a.add(reminder, 1_000);
    expect(b.claim(job.id, 5_000, undefined, 5_001)).toBe(true);
    expect(a.claim(job.id, 5_000, undefined, 5_002)).toBe(false);
    expect(a.get(job.id)).toMatchObject({ status: 'done', nextRunAt: undefined });
    const [run] = a.unfinishedRuns();
    expect(run).toMatchObject({ jobId: job.id, dueAt: 5_000, status: 'running' });
    expect(a.finishRun(run?.id as number, 'failed', 'no chat', 6_000)).toBe(1);
    expect(a.get(job.id)?.lastError).toBe('no chat');
    first.close();
    second.close();
  });
});
