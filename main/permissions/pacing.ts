import type { SentMessages } from '../storage/sent-messages.js';

export interface PacingLimits {
  readonly perRecipientPerMinute: number;
  readonly perRecipientPerHour: number;
  readonly overallPerHour: number;
}

export type PacingVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly tripsBreaker: boolean };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Counts outbound messages per recipient and overall, from the ledger of messages actually sent. The hourly caps
 * trip the circuit breaker (a runaway); the per-minute cap only asks the sender to slow down.
 */
export class Pacer {
  constructor(
    private readonly sent: SentMessages,
    private readonly limits: PacingLimits,
  ) {}

  /**
   * `pending`: sends of the same call checked before this one (one email to many is one send per recipient), which
   * count as sent: a call to more people than the hour has left must not pass because none of them is recorded yet.
   */
  check(channel: string, recipient: string, now = Date.now(), pending: { readonly overall: number; readonly toRecipient: number } = { overall: 0, toRecipient: 0 }): PacingVerdict {
    const count = (since: number, forRecipient: boolean): number =>
      forRecipient ? this.sent.countToSince(channel, recipient, since) + pending.toRecipient : this.sent.countSince(since) + pending.overall;
    if (count(now - HOUR, false) >= this.limits.overallPerHour) {
      return { ok: false, tripsBreaker: true, reason: `Pavise has sent ${this.limits.overallPerHour} messages in the last hour (limits.pacing.overallPerHour).` };
    }
    if (count(now - HOUR, true) >= this.limits.perRecipientPerHour) {
      return { ok: false, tripsBreaker: true, reason: `Pavise has sent ${this.limits.perRecipientPerHour} messages to ${recipient} in the last hour (limits.pacing.perRecipientPerHour).` };
    }
    if (count(now - MINUTE, true) >= this.limits.perRecipientPerMinute) {
      return { ok: false, tripsBreaker: false, reason: `Pavise has sent ${this.limits.perRecipientPerMinute} messages to ${recipient} in the last minute; wait a minute (limits.pacing.perRecipientPerMinute).` };
    }
    return { ok: true };
  }

  record(channel: string, recipient: string, now = Date.now()): void {
    this.sent.record(channel, recipient, now);
  }

  hasSentTo(channel: string, recipient: string): boolean {
    return this.sent.hasSentTo(channel, recipient);
  }
}
