import type { Database } from 'better-sqlite3';
import { Emitter } from '../common/emitter.js';
import { preparedOnce, type Prepare } from './statements.js';

export type SwitchName = 'paused' | 'outbound_tripped';

/**
 * The pause switch and the outbound circuit breaker, kept in SQLite so `pavise pause` in one terminal stops a
 * gateway running in another.
 */
export class Switches {
  /** A switch was set in this process (another process's change is seen only by reading it again). */
  readonly events = new Emitter<{ readonly set: [name: SwitchName, on: boolean] }>();
  readonly #sql: Prepare;

  constructor(private readonly db: Database) {
    this.#sql = preparedOnce(db);
  }

  get(name: SwitchName): { readonly on: boolean; readonly reason?: string; readonly since?: number } {
    const row = this.#sql('SELECT value, updated_at FROM state WHERE key = ?').get(name) as { value: string; updated_at: number } | undefined;
    if (!row) return { on: false };
    const value = JSON.parse(row.value) as { on: boolean; reason?: string };
    return value.on ? { on: true, ...(value.reason ? { reason: value.reason } : {}), since: row.updated_at } : { on: false };
  }

  set(name: SwitchName, on: boolean, reason?: string, now = Date.now()): void {
    this.#sql('INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
      .run(name, JSON.stringify(reason ? { on, reason } : { on }), now);
    this.events.emit('set', name, on);
  }
}
