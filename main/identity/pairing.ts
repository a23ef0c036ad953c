import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { ChannelId } from '../common/channels.js';

const CODE_TTL_MS = 10 * 60_000;

/**
 * One-time owner pairing codes (`pavise pair telegram`). Only a hash is stored; a code works once, for ten
 * minutes, and only in a private chat with the bot.
 */
export class PairingCodes {
  constructor(private readonly db: Database) {}

  create(channel: ChannelId, now = Date.now()): { code: string; expiresAt: number } {
    const code = Array.from({ length: 8 }, () => '23456789ABCDEFGHJKLMNPQRSTUVWXYZ'[randomInt(32)]).join('');
    const expiresAt = now + CODE_TTL_MS;
    this.db
      .prepare('INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
      .run(`pairing_code:${channel}`, JSON.stringify({ hash: hash(code), expiresAt }), now);
    return { code: `${code.slice(0, 4)}-${code.slice(4)}`, expiresAt };
  }

  /** True once for the right code before it expires; the code is spent either way when it matches. */
  consume(channel: ChannelId, candidate: string, now = Date.now()): boolean {
    const row = this.db.prepare('SELECT value FROM state WHERE key = ?').get(`pairing_code:${channel}`) as { value: string } | undefined;
    if (!row) return false;
    const { hash: stored, expiresAt } = JSON.parse(row.value) as { hash: string; expiresAt: number };
    const normalized = candidate.trim().toUpperCase().replace(/[\s-]/g, '');
    if (normalized.length !== 8) return false;
    const matches = timingSafeEqual(Buffer.from(hash(normalized)), Buffer.from(stored));
    if (!matches) return false;
    this.db.prepare('DELETE FROM state WHERE key = ?').run(`pairing_code:${channel}`);
    return expiresAt > now;
  }
}

function hash(code: string): string {
  return createHash('sha256').update(`pavise-pairing:${code}`).digest('hex');
}
