import type { Database } from 'better-sqlite3';
import { preparedOnce, type Prepare } from './statements.js';

/** The ledger of outbound messages actually sent; pacing (permissions/pacing.ts) counts from it. */
export class SentMessages {
  readonly #sql: Prepare;

  constructor(db: Database) {
    this.#sql = preparedOnce(db);
  }

  countSince(since: number): number {
    return (this.#sql('SELECT COUNT(*) AS n FROM sent_messages WHERE ts > ?').get(since) as { n: number }).n;
  }

  countToSince(channel: string, recipient: string, since: number): number {
    return (this.#sql('SELECT COUNT(*) AS n FROM sent_messages WHERE channel = ? AND recipient = ? AND ts > ?').get(channel, recipient, since) as { n: number }).n;
  }

  record(channel: string, recipient: string, now: number): void {
    this.#sql('INSERT INTO sent_messages (ts, channel, recipient) VALUES (?, ?, ?)').run(now, channel, recipient);
  }

  hasSentTo(channel: string, recipient: string): boolean {
    return this.#sql('SELECT 1 FROM sent_messages WHERE channel = ? AND recipient = ? LIMIT 1').get(channel, recipient) !== undefined;
  }
}
