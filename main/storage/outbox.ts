import type { Database } from 'better-sqlite3';
import type { ChannelId } from '../common/channels.js';
import { Emitter } from '../common/emitter.js';
import type { Provenance } from '../common/messages.js';
import { preparedOnce, type Prepare } from './statements.js';

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'uncertain' | 'held';

export interface OutboxEntry {
  readonly id: number;
  readonly idempotencyKey: string;
  readonly channel: ChannelId;
  readonly conversationId: string;
  readonly text: string;
  readonly status: OutboxStatus;
  readonly attempts: number;
  readonly error: string | undefined;
  readonly createdAt: number;
  readonly sentAt: number | undefined;
  /** What the channel returned when it accepted the message (Telegram message ids; none for iMessage). */
  readonly externalIds: readonly string[] | undefined;
  /** A notice about Pavise itself (the model could not be reached): sent like a reply, never remembered as Pavise's words. */
  readonly notice: boolean;
}

/** Attempts at one entry before a retryable failure counts as final. */
export const MAX_SEND_ATTEMPTS = 8;
/** The wait after the first failed attempt; it doubles with each further one (5 s, 10 s, … about 10 minutes in all). */
export const RETRY_BASE_MS = 5_000;
export const RETRY_MAX_MS = 5 * 60_000;

/**
 * When a pending entry that failed retryably may be tried again (SQL over its own row; `@base` and `@max` are bound to
 * RETRY_BASE_MS and RETRY_MAX_MS). A constant fragment: nothing is spliced into it.
 */
const RETRY_AT = 'updated_at + MIN(@max, @base * (1 << MIN(attempts - 1, 20)))';

/** Statuses after which an entry is never attempted again by itself. */
const FINAL: ReadonlySet<OutboxStatus> = new Set(['sent', 'failed', 'held']);

export type OutboxEvents = {
  /** An entry was enqueued; told after the current synchronous work (and any transaction around it) is done. */
  readonly queued: [entry: OutboxEntry];
  /** An entry reached a final state: sent, failed for good, or held by pacing or the breaker. */
  readonly settled: [entry: OutboxEntry];
};

interface Row {
  id: number;
  idempotency_key: string;
  channel: ChannelId;
  conversation_id: string;
  text: string;
  status: OutboxStatus;
  attempts: number;
  error: string | null;
  created_at: number;
  sent_at: number | null;
  external_ids: string | null;
  notice: number;
}

/**
 * Every outbound message, persisted before it is sent. An idempotency key makes enqueueing repeatable; the
 * `sending` mark before each attempt makes a crash mid-send visible, and such entries are never re-sent blindly
 * (they become `uncertain`): nothing is lost and nothing is sent twice.
 */
export class Outbox {
  readonly events = new Emitter<OutboxEvents>();
  readonly #sql: Prepare;

  constructor(private readonly db: Database) {
    this.#sql = preparedOnce(db);
  }

  /**
   * `provenance`: whose words the text carries when that is not the conversation's own (a scheduled job's message to
   * the owner); memory remembers the sent text with the weaker of it and the conversation's label. `notice`: the text
   * is a notice about Pavise itself, which memory does not keep (migration 0015).
   */
  enqueue(
    entry: { channel: ChannelId; conversationId: string; text: string; idempotencyKey: string; provenance?: Provenance; notice?: boolean },
    now = Date.now(),
  ): OutboxEntry {
    this.#sql(
      `INSERT INTO outbox (idempotency_key, channel, conversation_id, text, status, created_at, updated_at, provenance, notice)
       VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
    ).run(entry.idempotencyKey, entry.channel, entry.conversationId, entry.text, now, now, entry.provenance ? JSON.stringify(entry.provenance) : null, entry.notice ? 1 : 0);
    const queued = this.byKey(entry.idempotencyKey) as OutboxEntry;
    queueMicrotask(() => this.events.emit('queued', queued));
    return queued;
  }

  /**
   * A notice about Pavise the gateway sends itself, at once and not through the queue (an approval notice): recorded
   * as being sent, so that its echo (iMessage shows what this Mac sent again, and in the owner's own chat as if the
   * owner wrote it) is recognised as Pavise's, and memory, which skips notices, does not keep it as anyone's words.
   * The caller marks it sent or failed (not retryable: it was never queued) once the channel answered.
   */
  recordDirect(entry: { channel: ChannelId; conversationId: string; text: string; idempotencyKey: string }, now = Date.now()): OutboxEntry {
    this.#sql(
      `INSERT INTO outbox (idempotency_key, channel, conversation_id, text, status, attempts, created_at, updated_at, notice)
       VALUES (?, ?, ?, ?, 'sending', 1, ?, ?, 1) ON CONFLICT (idempotency_key) DO NOTHING`,
    ).run(entry.idempotencyKey, entry.channel, entry.conversationId, entry.text, now, now);
    return this.byKey(entry.idempotencyKey) as OutboxEntry;
  }

  byKey(key: string): OutboxEntry | undefined {
    const row = this.#sql('SELECT * FROM outbox WHERE idempotency_key = ?').get(key) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  get(id: number): OutboxEntry | undefined {
    const row = this.#sql('SELECT * FROM outbox WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Pending entries in id order: all of them, or a page of `limit` after `afterId`. */
  pending(afterId = 0, limit = -1): OutboxEntry[] {
    return (this.#sql(`SELECT * FROM outbox WHERE status = 'pending' AND id > ? ORDER BY id LIMIT ?`).all(afterId, limit) as Row[]).map(fromRow);
  }

  /**
   * Pending entries whose turn has come, in id order: new ones at once, one that failed retryably only after
   * RETRY_BASE_MS doubled for each attempt so far (at most RETRY_MAX_MS). Within one conversation (channel and
   * conversation id) order holds: an entry is not due while an earlier one of that conversation waits for its retry,
   * is held (pacing, the breaker) or is being sent; once that one is sent or given up, the later ones are due again.
   * Other conversations are not held up.
   */
  due(afterId: number, limit: number, now = Date.now()): OutboxEntry[] {
    return (
      this.#sql(
        `WITH waiting AS (
           SELECT channel, conversation_id, MIN(id) AS first FROM outbox
            WHERE status IN ('sending', 'held') OR (status = 'pending' AND attempts > 0 AND ${RETRY_AT} > @now)
            GROUP BY channel, conversation_id)
         SELECT outbox.* FROM outbox LEFT JOIN waiting ON waiting.channel = outbox.channel AND waiting.conversation_id = outbox.conversation_id
          WHERE outbox.status = 'pending' AND outbox.id > @afterId
            AND (outbox.attempts = 0 OR ${RETRY_AT} <= @now)
            AND (waiting.first IS NULL OR outbox.id < waiting.first)
          ORDER BY outbox.id LIMIT @limit`,
      ).all({ afterId, limit, now, base: RETRY_BASE_MS, max: RETRY_MAX_MS }) as Row[]
    ).map(fromRow);
  }

  list(limit = 50): OutboxEntry[] {
    return (this.#sql('SELECT * FROM outbox ORDER BY id DESC LIMIT ?').all(limit) as Row[]).map(fromRow);
  }

  /** Claims a pending entry for sending; false when another worker (or an earlier run) already did. */
  claim(id: number, now = Date.now()): boolean {
    return (
      this.#sql(`UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ? WHERE id = ? AND status = 'pending'`).run(now, id).changes === 1
    );
  }

  markSent(id: number, now = Date.now(), externalIds: readonly string[] = []): void {
    this.#sql(`UPDATE outbox SET status = 'sent', sent_at = ?, updated_at = ?, error = NULL, external_ids = ? WHERE id = ?`).run(now, now, JSON.stringify(externalIds), id);
    this.#settled(id);
  }

  /**
   * A failed attempt. A retryable one is tried again later (see `due`), at most MAX_SEND_ATTEMPTS times in all: a
   * send that timed out may still have gone out, and retrying it for ever could send it again and again. Returns the
   * entry as it now is (`failed` once given up).
   */
  markFailed(id: number, error: string, retryable: boolean, now = Date.now()): OutboxEntry | undefined {
    this.#sql(
      `UPDATE outbox SET status = CASE WHEN ? AND attempts < ? THEN 'pending' ELSE 'failed' END,
         error = CASE WHEN ? AND attempts >= ? THEN ? || ' (gave up after ' || attempts || ' attempts)' ELSE ? END, updated_at = ? WHERE id = ?`,
    ).run(retryable ? 1 : 0, MAX_SEND_ATTEMPTS, retryable ? 1 : 0, MAX_SEND_ATTEMPTS, error, error, now, id);
    return this.#settled(id);
  }

  hold(id: number, reason: string, now = Date.now()): void {
    this.#sql(`UPDATE outbox SET status = 'held', error = ?, updated_at = ? WHERE id = ?`).run(reason, now, id);
    this.#settled(id);
  }

  /** Held messages go back to the queue (after `pavise resume`). */
  release(now = Date.now()): number {
    return this.#sql(`UPDATE outbox SET status = 'pending', updated_at = ? WHERE status = 'held'`).run(now).changes;
  }

  /** How many entries whose idempotency key starts with `prefix` were queued at or after `since`. */
  countKeyedSince(prefix: string, since: number): number {
    const row = this.#sql(`SELECT COUNT(*) AS count FROM outbox WHERE idempotency_key >= ? AND idempotency_key < ? AND created_at >= ?`).get(prefix, `${prefix}\uffff`, since) as { count: number };
    return row.count;
  }

  /** After a crash: an entry caught mid-send may or may not have left; it is not sent again. */
  recoverInterrupted(now = Date.now()): OutboxEntry[] {
    const rows = this.#sql(`SELECT * FROM outbox WHERE status = 'sending'`).all() as Row[];
    this.#sql(`UPDATE outbox SET status = 'uncertain', error = 'interrupted while sending; not re-sent', updated_at = ? WHERE status = 'sending'`).run(now);
    return rows.map(fromRow);
  }

  /**
   * Whether Pavise itself sent this text to this conversation recently (recognises its own messages echoed back): the
   * whole text, or a part of it (a long message travels in chunks). `minPartLength`: a part shorter than this counts
   * only when it is a whole message (a short "ok" from someone else is not an echo of a reply that contained it), or
   * the end of a message longer than `chunkedOver` (its last chunk, which may be short).
   */
  sentRecently(channel: ChannelId, conversationId: string, text: string, since: number, minPartLength = 0, chunkedOver = Number.MAX_SAFE_INTEGER): boolean {
    const trimmed = text.trim();
    if (trimmed === '') return false;
    return (
      this.#sql(
        `SELECT 1 FROM outbox WHERE channel = ? AND conversation_id = ? AND status IN ('sent', 'sending', 'uncertain')
         AND updated_at >= ? AND (text = ? OR trim(text) = ? OR (? >= ? AND instr(text, ?) > 0)
           OR (length(text) > ? AND substr(rtrim(text, ' ' || char(9) || char(10) || char(13)), -length(?)) = ?)) LIMIT 1`,
      ).get(channel, conversationId, since, text, trimmed, trimmed.length, minPartLength, trimmed, chunkedOver, trimmed, trimmed) !== undefined
    );
  }

  /** The entry as it now is, announced when its status is final. */
  #settled(id: number): OutboxEntry | undefined {
    const entry = this.get(id);
    if (entry && FINAL.has(entry.status)) this.events.emit('settled', entry);
    return entry;
  }

  /** Whether `status` is final (see OutboxEvents.settled). */
  static isFinal(status: OutboxStatus): boolean {
    return FINAL.has(status);
  }
}

function fromRow(row: Row): OutboxEntry {
  return {
    id: row.id,
    idempotencyKey: row.idempotency_key,
    channel: row.channel,
    conversationId: row.conversation_id,
    text: row.text,
    status: row.status,
    attempts: row.attempts,
    error: row.error ?? undefined,
    createdAt: row.created_at,
    sentAt: row.sent_at ?? undefined,
    externalIds: row.external_ids === null ? undefined : (JSON.parse(row.external_ids) as string[]),
    notice: row.notice === 1,
  };
}
