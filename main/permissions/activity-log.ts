import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { SecretStore } from '../secrets/secret-store.js';
import { canonicalJson } from './canonical.js';

/** The SecretStore entry holding the activity log's HMAC key. Created on first use. */
export const ACTIVITY_KEY_NAME = 'activity-log-key';

export type ActivityKind =
  | 'decision'
  | 'approval_requested'
  | 'approval_decided'
  | 'effect'
  | 'model_call_refused'
  | 'pause'
  | 'resume'
  | 'breaker'
  | 'system';

export interface ActivityEntry {
  readonly kind: ActivityKind;
  readonly summary: string;
  readonly sessionId?: string;
  readonly tool?: string;
  readonly decision?: string;
  /** Who: 'policy', 'owner:cli', 'owner:popover', 'pavise'… */
  readonly actor: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface ActivityRow extends ActivityEntry {
  readonly id: number;
  readonly ts: number;
  readonly detail: Readonly<Record<string, unknown>>;
}

export type VerifyResult =
  | { readonly ok: true; readonly count: number }
  | { readonly ok: false; readonly count: number; readonly badRowId: number; readonly problem: string };

interface DbRow {
  id: number;
  ts: number;
  kind: ActivityKind;
  session_id: string | null;
  tool: string | null;
  summary: string;
  decision: string | null;
  actor: string;
  detail_json: string;
  mac: string;
}

const GENESIS = '0'.repeat(64);

/**
 * Append-only log of every decision and executed effect. Each row's MAC covers the previous row's MAC, so an edit,
 * deletion or reordering breaks the chain at the first affected row; a signed head (count, last id, last MAC)
 * catches a truncated tail. The key lives in the SecretStore, never in the database.
 */
export class ActivityLog {
  private constructor(
    private readonly db: Database,
    private readonly key: Buffer,
  ) {}

  static async open(db: Database, secrets: SecretStore): Promise<ActivityLog> {
    let encoded = await secrets.get(ACTIVITY_KEY_NAME);
    if (!encoded) {
      const hasRows = (db.prepare('SELECT COUNT(*) AS n FROM activity').get() as { n: number }).n > 0;
      if (hasRows) {
        throw new Error(
          `The activity log's key (${ACTIVITY_KEY_NAME}) is missing from the Keychain, so the log cannot be verified or extended. ` +
            'Restore the Keychain entry, or move pavise.db aside to start a new log.',
        );
      }
      encoded = randomBytes(32).toString('base64');
      await secrets.set(ACTIVITY_KEY_NAME, encoded);
    }
    return new ActivityLog(db, Buffer.from(encoded, 'base64'));
  }

  append(entry: ActivityEntry, now = Date.now()): ActivityRow {
    const run = this.db.transaction((): ActivityRow => {
      const head = this.db.prepare('SELECT count, last_id, last_mac FROM activity_head WHERE id = 1').get() as
        | { count: number; last_id: number; last_mac: string }
        | undefined;
      const previousMac = head?.last_mac ?? GENESIS;
      const id = (head?.last_id ?? 0) + 1;
      const row: ActivityRow = {
        id,
        ts: now,
        kind: entry.kind,
        summary: entry.summary,
        actor: entry.actor,
        detail: entry.detail ?? {},
        ...(entry.sessionId !== undefined ? { sessionId: entry.sessionId } : {}),
        ...(entry.tool !== undefined ? { tool: entry.tool } : {}),
        ...(entry.decision !== undefined ? { decision: entry.decision } : {}),
      };
      const detailJson = canonicalJson(row.detail);
      const mac = this.#rowMac(previousMac, row, detailJson);
      this.db
        .prepare(
          'INSERT INTO activity (id, ts, kind, session_id, tool, summary, decision, actor, detail_json, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(id, now, row.kind, row.sessionId ?? null, row.tool ?? null, row.summary, row.decision ?? null, row.actor, detailJson, mac);
      const count = (head?.count ?? 0) + 1;
      this.db
        .prepare('INSERT INTO activity_head (id, count, last_id, last_mac, mac) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET count = excluded.count, last_id = excluded.last_id, last_mac = excluded.last_mac, mac = excluded.mac')
        .run(count, id, mac, this.#headMac(count, id, mac));
      return row;
    });
    return run.immediate();
  }

  list(options: { since?: number; limit?: number; kind?: ActivityKind } = {}): ActivityRow[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM activity WHERE ts >= ? AND (? IS NULL OR kind = ?) ORDER BY id DESC LIMIT ?`,
      )
      .all(options.since ?? 0, options.kind ?? null, options.kind ?? null, options.limit ?? 200) as DbRow[];
    return rows.reverse().map(fromDb);
  }

  verify(): VerifyResult {
    let previousMac = GENESIS;
    let expectedId = 1;
    let count = 0;
    for (const dbRow of this.db.prepare('SELECT * FROM activity ORDER BY id').iterate() as Iterable<DbRow>) {
      if (dbRow.id !== expectedId) {
        return { ok: false, count, badRowId: dbRow.id, problem: `row ${expectedId} is missing (deleted or renumbered) before row ${dbRow.id}` };
      }
      const row = fromDb(dbRow);
      const mac = this.#rowMac(previousMac, row, dbRow.detail_json);
      if (!equalHex(mac, dbRow.mac)) {
        return { ok: false, count, badRowId: dbRow.id, problem: `row ${dbRow.id} was edited, reordered or inserted (its MAC does not match)` };
      }
      previousMac = dbRow.mac;
      expectedId++;
      count++;
    }
    const head = this.db.prepare('SELECT count, last_id, last_mac, mac FROM activity_head WHERE id = 1').get() as
      | { count: number; last_id: number; last_mac: string; mac: string }
      | undefined;
    if (!head) {
      return count === 0 ? { ok: true, count } : { ok: false, count, badRowId: 1, problem: 'the log head is missing' };
    }
    if (!equalHex(this.#headMac(head.count, head.last_id, head.last_mac), head.mac)) {
      return { ok: false, count, badRowId: head.last_id, problem: 'the log head was edited' };
    }
    if (head.count !== count || head.last_id !== count || head.last_mac !== previousMac) {
      return { ok: false, count, badRowId: count + 1, problem: `rows after ${count} were deleted (the log held ${head.count})` };
    }
    return { ok: true, count };
  }

  #rowMac(previousMac: string, row: ActivityRow, detailJson: string): string {
    const material = canonicalJson([
      previousMac,
      row.id,
      row.ts,
      row.kind,
      row.sessionId ?? null,
      row.tool ?? null,
      row.summary,
      row.decision ?? null,
      row.actor,
      detailJson,
    ]);
    return createHmac('sha256', this.key).update(material).digest('hex');
  }

  #headMac(count: number, lastId: number, lastMac: string): string {
    return createHmac('sha256', this.key).update(`head|${count}|${lastId}|${lastMac}`).digest('hex');
  }
}

function fromDb(row: DbRow): ActivityRow {
  return {
    id: row.id,
    ts: row.ts,
    kind: row.kind,
    summary: row.summary,
    actor: row.actor,
    detail: JSON.parse(row.detail_json) as Record<string, unknown>,
    ...(row.session_id !== null ? { sessionId: row.session_id } : {}),
    ...(row.tool !== null ? { tool: row.tool } : {}),
    ...(row.decision !== null ? { decision: row.decision } : {}),
  };
}

function equalHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
