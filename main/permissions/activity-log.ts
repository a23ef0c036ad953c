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
  | {
      readonly ok: true;
      readonly count: number;
      /**
       * Rows before the log went on under a new key (its old key lived in a keyring that did not last): they are kept
       * and listed but no longer verifiable. 0 when the whole log verifies.
       */
      readonly unverifiable: number;
    }
  | { readonly ok: false; readonly count: number; readonly badRowId: number; readonly problem: string };

export interface ActivityLogOptions {
  /**
   * When the log has rows but its key is gone, go on under a new key instead of refusing to start: only for a keyring
   * known not to last (scripts/with-keyring.sh on a Linux box without a D-Bus session). The first row under the new
   * key says so; `verify` checks the chain from there and counts the rows before it as unverifiable.
   */
  readonly newKeyWhenLost?: boolean;
}

type DbRow = ActivityDbRow & { readonly kind: ActivityKind };

const GENESIS = '0'.repeat(64);
/** The detail field of the row that starts the chain again under a new key. */
const NEW_KEY_MARK = 'newActivityKey';

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
  /**
   * Set when the log goes on under a new key: the row that says so is written before the first new row, so a
   * command that only reads adds nothing.
   */
  #restartPending: boolean;

  private constructor(
    private readonly rows: ActivityRows,
    private readonly key: Buffer,
    restartPending = false,
  ) {
    this.#restartPending = restartPending;
  }

  static async open(rows: ActivityRows, secrets: SecretStore, options: ActivityLogOptions = {}): Promise<ActivityLog> {
    const encoded = await secrets.get(ACTIVITY_KEY_NAME);
    if (encoded) return new ActivityLog(rows, Buffer.from(encoded, 'base64'));
    if (rows.count() > 0 && !options.newKeyWhenLost) {
      throw new ActivityKeyError(
        `The activity log's key (${ACTIVITY_KEY_NAME}) is missing from the Keychain, so the log cannot be verified or extended. ` +
          'Restore the Keychain entry, or move pavise.db aside to start a new log.',
      );
    }
    const fresh = randomBytes(32).toString('base64');
    await secrets.set(ACTIVITY_KEY_NAME, fresh);
    return new ActivityLog(rows, Buffer.from(fresh, 'base64'), rows.count() > 0);
  }

  append(entry: ActivityEntry, now = Date.now()): ActivityRow {
    if (this.#restartPending) {
      this.#restartPending = false;
      this.#appendRow(this.#newKeyEntry(), now);
    }
    return this.#appendRow(entry, now);
  }

  #newKeyEntry(): ActivityEntry {
    const lost = this.rows.head()?.lastId ?? this.rows.count();
    return {
      kind: 'system',
      actor: 'pavise',
      summary:
        'The activity log goes on under a new key: the keyring that held the old one did not last (no D-Bus session on this machine). ' +
        `${lost === 1 ? 'Row 1 is' : `Rows 1–${lost} are`} kept but can no longer be verified.`,
      detail: { [NEW_KEY_MARK]: { unverifiableThrough: lost } },
    };
  }

  #appendRow(entry: ActivityEntry, now: number): ActivityRow {
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
    // Under a key no row was written with yet, nothing can be checked: every row is counted as unverifiable.
    if (this.#restartPending) {
      const count = this.rows.count();
      return { ok: true, count, unverifiable: count };
    }
    // The chain is checked from its last restart under this key (a row only this key could have written), or from
    // the start; rows before a restart were written under a key that is gone and are only counted.
    const from = this.#restartedAt();
    let previousMac = GENESIS;
    let expectedId = 1;
    let count = 0;
    for (const dbRow of this.rows.all() as Iterable<DbRow>) {
      if (dbRow.id !== expectedId) {
        return { ok: false, count, badRowId: dbRow.id, problem: `row ${expectedId} is missing (deleted or renumbered) before row ${dbRow.id}` };
      }
      if (dbRow.id >= from) {
        const mac = this.#rowMac(previousMac, fromDb(dbRow), dbRow.detail_json);
        if (!equalHex(mac, dbRow.mac)) {
          return { ok: false, count, badRowId: dbRow.id, problem: `row ${dbRow.id} was edited, reordered or inserted (its MAC does not match)` };
        }
      }
      previousMac = dbRow.mac;
      expectedId++;
      count++;
    }
    const head = this.rows.head();
    if (!head) {
      return count === 0 ? { ok: true, count, unverifiable: 0 } : { ok: false, count, badRowId: 1, problem: 'the log head is missing' };
    }
    if (!equalHex(this.#headMac(head.count, head.lastId, head.lastMac), head.mac)) {
      return { ok: false, count, badRowId: head.lastId, problem: 'the log head was edited' };
    }
    if (head.count !== count || head.lastId !== count || head.lastMac !== previousMac) {
      return { ok: false, count, badRowId: count + 1, problem: `rows after ${count} were deleted (the log held ${head.count})` };
    }
    return { ok: true, count, unverifiable: from - 1 };
  }

  /** The id of the last row that restarted the chain under this key (its MAC checks against the row before), or 1. */
  #restartedAt(): number {
    let restart = 1;
    let previousMac = GENESIS;
    for (const dbRow of this.rows.all() as Iterable<DbRow>) {
      if (dbRow.kind === 'system' && dbRow.detail_json.includes(NEW_KEY_MARK)) {
        const row = fromDb(dbRow);
        if (row.detail[NEW_KEY_MARK] !== undefined && equalHex(this.#rowMac(previousMac, row, dbRow.detail_json), dbRow.mac)) restart = dbRow.id;
      }
      previousMac = dbRow.mac;
    }
    return restart;
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
