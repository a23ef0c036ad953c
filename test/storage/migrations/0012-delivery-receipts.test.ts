import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobStore } from '../../../main/storage/job-store.js';
import { migrate } from '../../../main/storage/migrations/index.js';
import { Outbox } from '../../../main/storage/outbox.js';

let dir: string;
let db: BetterSqlite3.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-m0012-'));
  db = new BetterSqlite3(join(dir, 'pavise.db'));
  db.pragma('foreign_keys = ON');
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const columns = (table: string) => (db.pragma(`table_info(${table})`) as { name: string }[]).map((column) => column.name);

describe('migration 0012-delivery-receipts', () => {
  it('adds the channel\'s answer to the outbox and job runs, keeping what version 11 wrote', () => {
    migrate(db, 11);
    db.prepare(`INSERT INTO outbox (idempotency_key, channel, conversation_id, text, status, created_at, updated_at) VALUES ('k', 'telegram', '42', 'hi', 'sent', 1, 1)`).run();
    expect(migrate(db, 12)).toBe(12);
    expect(columns('outbox')).toContain('external_ids');
    expect(columns('job_runs').slice(-2)).toEqual(['delivered_via', 'channel_message_ids']);
    // Rows sent before the migration have no recorded answer: undefined, not an invented empty list.
    expect(new Outbox(db).byKey('k')).toMatchObject({ status: 'sent', externalIds: undefined });
  });

  it('a Telegram send to a chat Pavise never read from is marked sent and remembered, before and after 0012 (the memory trigger once failed on its NULL is_group)', () => {
    migrate(db, 11);
    db.prepare(`INSERT INTO outbox (idempotency_key, channel, conversation_id, text, status, created_at, updated_at) VALUES ('a', 'telegram', '4242', 'reminder one', 'sending', 1, 1)`).run();
    db.prepare(`UPDATE outbox SET status = 'sent' WHERE idempotency_key = 'a'`).run();
    expect(db.prepare(`SELECT is_group, text FROM memory_items WHERE guid LIKE 'outbox:%'`).all()).toEqual([{ is_group: 0, text: 'reminder one' }]);
    migrate(db);
    const outbox = new Outbox(db);
    const second = outbox.enqueue({ channel: 'telegram', conversationId: '4242', text: 'reminder two', idempotencyKey: 'b' }, 3);
    outbox.markSent(second.id, 4, ['777']);
    expect(outbox.get(second.id)).toMatchObject({ status: 'sent', externalIds: ['777'] });
    expect(db.prepare(`SELECT is_group, text FROM memory_items WHERE guid = ?`).all(`outbox:${second.id}`)).toEqual([{ is_group: 0, text: 'reminder two' }]);
    expect(db.prepare(`SELECT rowid FROM memory_fts WHERE memory_fts MATCH 'two'`).all()).toHaveLength(1);
  });

  it('records a delivered run with its channel and ids; other runs keep none', () => {
    migrate(db);
    const jobs = new JobStore(db);
    const job = jobs.add({ kind: 'reminder', title: 't', payload: { text: 't' }, schedule: { type: 'once', at: 5 }, timeZone: 'UTC', nextRunAt: 5, missedPolicy: 'once', urgent: false, provenance: { kind: 'owner' } }, 1);
    expect(jobs.claim(job.id, 5, undefined, 6)).toBe(true);
    const [run] = jobs.unfinishedRuns();
    jobs.finishRun(run?.id as number, 'delivered', 'telegram accepted it: message id 9', 7, { channel: 'telegram', messageIds: ['9'] });
    expect(jobs.run(run?.id as number)).toMatchObject({ status: 'delivered', deliveredVia: 'telegram', channelMessageIds: ['9'] });
    jobs.recordSkipped(job.id, 99, 'missed', 8);
    expect(jobs.runOf(job.id, 99)).toMatchObject({ status: 'skipped', deliveredVia: undefined, channelMessageIds: undefined });
  });
});
