import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../main/storage/database.js';
import { MAX_SEND_ATTEMPTS, Outbox, RETRY_MAX_MS } from '../../main/storage/outbox.js';

let dir: string | undefined;
let db: Database | undefined;
afterEach(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('outbox retries', () => {
  it('a send that failed retryably is due again after 5 s, then 10, 20, 40 … at most 5 minutes apart, and is given up after the last attempt', () => {
    dir = mkdtempSync(join(tmpdir(), 'pavise-outbox-'));
    db = openDatabase(join(dir, 'pavise.db'));
    const outbox = new Outbox(db);
    let now = 1_000_000;
    const entry = outbox.enqueue({ channel: 'imessage', conversationId: 'iMessage;-;+15550100', text: 'your reminder', idempotencyKey: 'retry:1' }, now);
    const due = () => outbox.due(0, 10, now).map((item) => item.id);
    expect(due()).toEqual([entry.id]);
    const waits: number[] = [];
    for (let attempt = 1; attempt <= MAX_SEND_ATTEMPTS; attempt++) {
      expect(outbox.claim(entry.id, now)).toBe(true);
      outbox.markFailed(entry.id, 'Messages did not answer', true, now);
      if (attempt === MAX_SEND_ATTEMPTS) break;
      // Not due a millisecond before its wait is over; due at the end of it.
      let wait = 0;
      while (wait <= RETRY_MAX_MS && !outbox.due(0, 10, now + wait).some((item) => item.id === entry.id)) wait += 1_000;
      waits.push(wait);
      expect(outbox.due(0, 10, now + wait - 1)).toEqual([]);
      now += wait;
    }
    expect(waits).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, RETRY_MAX_MS].slice(0, MAX_SEND_ATTEMPTS - 1));
    expect(outbox.get(entry.id)).toMatchObject({ status: 'failed', attempts: MAX_SEND_ATTEMPTS });
    expect(outbox.due(0, 10, now + 24 * 60 * 60_000)).toEqual([]);
  });
});
