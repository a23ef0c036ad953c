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

  it('keeps order within a conversation: a later entry waits while an earlier one of that chat waits for its retry; other chats go on; once the earlier one is given up, the later one goes', () => {
    dir = mkdtempSync(join(tmpdir(), 'pavise-outbox-'));
    db = openDatabase(join(dir, 'pavise.db'));
    const outbox = new Outbox(db);
    let now = 1_000_000;
    const chat = 'iMessage;-;+15550100';
    const first = outbox.enqueue({ channel: 'imessage', conversationId: chat, text: 'starting', idempotencyKey: 'order:1' }, now);
    expect(outbox.claim(first.id, now)).toBe(true);
    outbox.markFailed(first.id, 'Messages did not answer', true, now);
    const second = outbox.enqueue({ channel: 'imessage', conversationId: chat, text: 'done', idempotencyKey: 'order:2' }, now);
    // Same handle on another channel, and another chat on this one: neither waits.
    const telegram = outbox.enqueue({ channel: 'telegram', conversationId: chat, text: 'elsewhere', idempotencyKey: 'order:3' }, now);
    const other = outbox.enqueue({ channel: 'imessage', conversationId: 'iMessage;-;+15550199', text: 'hello', idempotencyKey: 'order:4' }, now);
    const due = (at: number) => outbox.due(0, 10, at).map((item) => item.id);
    expect(due(now)).toEqual([telegram.id, other.id]);
    // Its retry is due: it goes first, and the later one only behind it in the same page.
    expect(due(now + 5_000)).toEqual([first.id, second.id, telegram.id, other.id]);
    // Paged after the first: the later one is not due while the earlier one is being sent.
    expect(outbox.claim(first.id, now + 5_000)).toBe(true);
    expect(due(now + 5_000)).toEqual([telegram.id, other.id]);
    outbox.markFailed(first.id, 'Messages did not answer', true, now + 5_000);
    for (let attempt = 3; attempt <= MAX_SEND_ATTEMPTS; attempt++) {
      now += RETRY_MAX_MS;
      expect(outbox.claim(first.id, now)).toBe(true);
      outbox.markFailed(first.id, 'Messages did not answer', true, now);
      if (attempt < MAX_SEND_ATTEMPTS) expect(due(now)).not.toContain(second.id);
    }
    expect(outbox.get(first.id)).toMatchObject({ status: 'failed', error: `Messages did not answer (gave up after ${MAX_SEND_ATTEMPTS} attempts)` });
    expect(due(now)).toEqual([second.id, telegram.id, other.id]);
  });

  it('a later entry of a chat waits behind an earlier one held by pacing, until it is released', () => {
    dir = mkdtempSync(join(tmpdir(), 'pavise-outbox-'));
    db = openDatabase(join(dir, 'pavise.db'));
    const outbox = new Outbox(db);
    const now = 1_000_000;
    const chat = 'iMessage;-;+15550100';
    const first = outbox.enqueue({ channel: 'imessage', conversationId: chat, text: 'part 1', idempotencyKey: 'held:1' }, now);
    const second = outbox.enqueue({ channel: 'imessage', conversationId: chat, text: 'part 2', idempotencyKey: 'tool:held:2' }, now);
    outbox.hold(first.id, 'over the hourly cap for this chat', now);
    expect(outbox.due(0, 10, now)).toEqual([]);
    outbox.release(now + 1);
    expect(outbox.due(0, 10, now + 1).map((item) => item.id)).toEqual([first.id, second.id]);
  });
});
