import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ActivityDbRow, ActivityRows } from '../storage/activity-rows.js';
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

type DbRow = ActivityDbRow & { readonly kind: ActivityKind };

const GENESIS = '0'.repeat(64);

/**
 * Append-only log of every decision and executed effect. Each row's MAC covers the previous row's MAC, so an edit,
 * deletion or reordering breaks the chain at the first affected row; a signed head (count, last id, last MAC)
 * catches a truncated tail. The key lives in the SecretStore, never in the database.
 */
/** The log has rows but its key is gone from the Keychain: nothing can be appended or verified. */
export class ActivityKeyError extends Error {
  override readonly name = 'ActivityKeyError';
}

export class ActivityLog {
  private constructor(
    private readonly rows: ActivityRows,
    private readonly key: Buffer,
  ) {}

  static async open(rows: ActivityRows, secrets: SecretStore): Promise<ActivityLog> {
    let encoded = await secrets.get(ACTIVITY_KEY_NAME);
    if (!encoded) {
      const hasRows = rows.count() > 0;
      if (hasRows) {
        throw new ActivityKeyError(
          `The activity log's key (${ACTIVITY_KEY_NAME}) is missing from the Keychain, so the log cannot be verified or extended. ` +
            'Restore the Keychain entry, or move pavise.db aside to start a new log.',
        );
      }
      encoded = randomBytes(32).toString('base64');
      await secrets.set(ACTIVITY_KEY_NAME, encoded);
    }
    return new ActivityLog(rows, Buffer.from(encoded, 'base64'));
  }

  append(entry: ActivityEntry, now = Date.now()): ActivityRow {
    return this.rows.append((head) => {
      const previousMac = head?.lastMac ?? GENESIS;
      const id = (head?.lastId ?? 0) + 1;
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
      const count = (head?.count ?? 0) + 1;
      return {
        row: { id, ts: now, kind: row.kind, session_id: row.sessionId ?? null, tool: row.tool ?? null, summary: row.summary, decision: row.decision ?? null, actor: row.actor, detail_json: detailJson, mac },
        head: { count, lastId: id, lastMac: mac, mac: this.#headMac(count, id, mac) },
        value: row,
      };
    });
  }

  list(options: { since?: number; limit?: number; kind?: ActivityKind } = {}): ActivityRow[] {
    return (this.rows.list(options.since ?? 0, options.kind, options.limit ?? 200) as DbRow[]).map(fromDb);
  }

  verify(): VerifyResult {
    let previousMac = GENESIS;
    let expectedId = 1;
    let count = 0;
    for (const dbRow of this.rows.all() as Iterable<DbRow>) {
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
    const head = this.rows.head();
    if (!head) {
      return count === 0 ? { ok: true, count } : { ok: false, count, badRowId: 1, problem: 'the log head is missing' };
    }
    if (!equalHex(this.#headMac(head.count, head.lastId, head.lastMac), head.mac)) {
      return { ok: false, count, badRowId: head.lastId, problem: 'the log head was edited' };
    }
    if (head.count !== count || head.lastId !== count || head.lastMac !== previousMac) {
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
