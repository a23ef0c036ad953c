import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { Database } from '../storage/database.js';
import { CHANNEL_DISPLAY_NAMES, type ChannelId } from '../common/channels.js';

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

  /** Counts requests dropped for newer ones; the count starts again once none was dropped for `windowMs`. */
  noteDropped(channel: ChannelId, count: number, windowMs: number, now = Date.now()): number {
    const total = this.dropped(channel, windowMs, now) + count;
    if (count > 0) {
      this.db
        .prepare('INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
        .run(`pairing_dropped:${channel}`, JSON.stringify({ count: total, lastAt: now }), now);
    }
    return total;
  }

  dropped(channel: ChannelId, windowMs: number, now = Date.now()): number {
    const row = this.db.prepare('SELECT value FROM state WHERE key = ?').get(`pairing_dropped:${channel}`) as { value: string } | undefined;
    if (!row) return 0;
    const { count, lastAt } = JSON.parse(row.value) as { count: number; lastAt: number };
    return lastAt > now - windowMs ? count : 0;
  }
}

function hash(code: string): string {
  return createHash('sha256').update(`pavise-pairing:${code}`).digest('hex');
}

/** At most this many pairing requests wait per channel; a newer one pushes out the oldest. */
export const MAX_PENDING_PAIRINGS = 3;
interface PairingApproval {
  readonly id: string;
  readonly tool: string;
  readonly input: unknown;
  readonly status: string;
  readonly createdAt: number;
}

/**
 * The pending requests on `channel` to drop so a new one fits under MAX_PENDING_PAIRINGS, oldest first. A flood of
 * strangers can then never fill the queue for good: the newest requests are the ones the owner sees.
 */
export function pairingsToDrop(pending: readonly PairingApproval[], channel: ChannelId, max = MAX_PENDING_PAIRINGS): string[] {
  const waiting = pending
    .filter((approval) => approval.status === 'pending' && approval.tool === 'pair_sender' && (approval.input as { channel?: unknown } | null)?.channel === channel)
    .sort((a, b) => a.createdAt - b.createdAt);
  return waiting.slice(0, Math.max(0, waiting.length - (max - 1))).map((approval) => approval.id);
}

/**
 * The pairing card's words. A display name is whatever the sender typed ("Mom", "Apple Support"): it never speaks
 * for itself, so the card says who claims it and shows the handle it really came from.
 */
export function pairingCard(channel: ChannelId, sender: string, senderName: string | undefined, dropped: number): { title: string; reason: string } {
  const channelName = CHANNEL_DISPLAY_NAMES[channel];
  const who = senderName?.trim() ? `someone calling themselves “${senderName.trim()}” (${sender})` : sender;
  const lead = who.charAt(0).toUpperCase() + who.slice(1);
  const droppedNote = dropped > 0 ? ` ${dropped} earlier request${dropped === 1 ? ' was' : 's were'} dropped to keep at most ${MAX_PENDING_PAIRINGS} waiting.` : '';
  return {
    title: `Let ${who} talk to Pavise on ${channelName} as a contact`,
    reason: `${lead} wrote to Pavise and is not one of your contacts; the name is their own claim, not a contact of yours. Contacts get answers but no tools and none of your private data.${droppedNote}`,
  };
}
