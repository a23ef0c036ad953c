import type { Database } from 'better-sqlite3';
import { preparedOnce, type Prepare } from './statements.js';

/** Where the spend cap keeps the worst case of model calls still running; see PermissionGate.beforeModelCall. */
export interface SpendHoldStore {
  /**
   * Atomically: `fits` is told what the other running calls may cost; when it says yes, this call's hold is recorded
   * under `id`. Returns what the others may cost and whether the hold was made.
   */
  hold(id: string, usd: number, fits: (othersUsd: number) => boolean, now?: number): { readonly held: boolean; readonly othersUsd: number };
  release(id: string): void;
}

const PREFIX = 'spend_hold:';
/**
 * A hold older than this is left by a process that died mid-call (a call, with its retries, ends well before): it
 * no longer counts. One dated in the future (the clock moved back) counts until it is this far behind again.
 */
export const SPEND_HOLD_TTL_MS = 30 * 60_000;

/**
 * Holds in SQLite, so every process on one home (the gateway, `pavise ask`, `pavise schedule run`) sees the others'
 * running calls: the cap is one cap, not one per process.
 */
export class SqliteSpendHolds implements SpendHoldStore {
  readonly #sql: Prepare;

  constructor(private readonly db: Database) {
    this.#sql = preparedOnce(db);
  }

  hold(id: string, usd: number, fits: (othersUsd: number) => boolean, now = Date.now()): { held: boolean; othersUsd: number } {
    return this.db.transaction(() => {
      this.#sql(`DELETE FROM state WHERE key >= ? AND key < ? AND (updated_at < ? OR updated_at > ?)`).run(
        PREFIX,
        `${PREFIX}\uffff`,
        now - SPEND_HOLD_TTL_MS,
        now + SPEND_HOLD_TTL_MS,
      );
      const row = this.#sql(`SELECT COALESCE(SUM(CAST(value AS REAL)), 0) AS usd FROM state WHERE key >= ? AND key < ? AND key != ?`).get(
        PREFIX,
        `${PREFIX}\uffff`,
        PREFIX + id,
      ) as { usd: number };
      const othersUsd = row.usd;
      if (!fits(othersUsd)) return { held: false, othersUsd };
      this.#sql('INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at').run(
        PREFIX + id,
        String(usd),
        now,
      );
      return { held: true, othersUsd };
    }).immediate();
  }

  release(id: string): void {
    this.#sql('DELETE FROM state WHERE key = ?').run(PREFIX + id);
  }
}

/** Holds in this process only (tests of the gate on its own). */
export class MemorySpendHolds implements SpendHoldStore {
  readonly #holds = new Map<string, number>();

  hold(id: string, usd: number, fits: (othersUsd: number) => boolean): { held: boolean; othersUsd: number } {
    const othersUsd = [...this.#holds].reduce((sum, [key, value]) => (key === id ? sum : sum + value), 0);
    if (!fits(othersUsd)) return { held: false, othersUsd };
    this.#holds.set(id, usd);
    return { held: true, othersUsd };
  }

  release(id: string): void {
    this.#holds.delete(id);
  }
}
