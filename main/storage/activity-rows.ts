import type { Database } from 'better-sqlite3';
import { preparedOnce, type Prepare } from './statements.js';

/** One stored activity row, as SQLite holds it; permissions/activity-log.ts computes and checks the MACs. */
export interface ActivityDbRow {
  readonly id: number;
  readonly ts: number;
  readonly kind: string;
  readonly session_id: string | null;
  readonly tool: string | null;
  readonly summary: string;
  readonly decision: string | null;
  readonly actor: string;
  readonly detail_json: string;
  readonly mac: string;
}

/** The signed head of the chain: how many rows, the last id and MAC, and the head's own MAC. */
export interface ActivityHead {
  readonly count: number;
  readonly lastId: number;
  readonly lastMac: string;
  readonly mac: string;
}

/** The activity log's rows and head. Append-only: there is no statement here that edits or deletes a row. */
export class ActivityRows {
  readonly #sql: Prepare;

  constructor(private readonly db: Database) {
    this.#sql = preparedOnce(db);
  }

  count(): number {
    return (this.#sql('SELECT COUNT(*) AS n FROM activity').get() as { n: number }).n;
  }

  head(): ActivityHead | undefined {
    const row = this.#sql('SELECT count, last_id, last_mac, mac FROM activity_head WHERE id = 1').get() as
      | { count: number; last_id: number; last_mac: string; mac: string }
      | undefined;
    return row ? { count: row.count, lastId: row.last_id, lastMac: row.last_mac, mac: row.mac } : undefined;
  }

  /**
   * Reads the head, lets `next` build the row and the new head from it, stores both and answers `next`'s value, in one immediate
   * transaction: two processes appending at once still form one chain.
   */
  append<T>(next: (head: ActivityHead | undefined) => { row: ActivityDbRow; head: ActivityHead; value: T }): T {
    const run = this.db.transaction((): T => {
      const { row, head, value } = next(this.head());
      this.#sql(
        'INSERT INTO activity (id, ts, kind, session_id, tool, summary, decision, actor, detail_json, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(row.id, row.ts, row.kind, row.session_id, row.tool, row.summary, row.decision, row.actor, row.detail_json, row.mac);
      this.#sql(
        'INSERT INTO activity_head (id, count, last_id, last_mac, mac) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET count = excluded.count, last_id = excluded.last_id, last_mac = excluded.last_mac, mac = excluded.mac',
      ).run(head.count, head.lastId, head.lastMac, head.mac);
      return value;
    });
    return run.immediate();
  }

  /** The newest `limit` rows since `since` (optionally of one kind), oldest first. */
  list(since: number, kind: string | undefined, limit: number): ActivityDbRow[] {
    const rows = this.#sql('SELECT * FROM activity WHERE ts >= ? AND (? IS NULL OR kind = ?) ORDER BY id DESC LIMIT ?').all(
      since,
      kind ?? null,
      kind ?? null,
      limit,
    ) as ActivityDbRow[];
    return rows.reverse();
  }

  /** Every row in id order, read lazily. */
  all(): Iterable<ActivityDbRow> {
    return this.#sql('SELECT * FROM activity ORDER BY id').iterate() as Iterable<ActivityDbRow>;
  }
}
