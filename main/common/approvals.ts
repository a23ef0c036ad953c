import type { Effect, Risk } from './effects.js';

/**
 * Where an approval may be decided: on the computer Pavise runs on (the app, the CLI), or (`telegram`) by the owner's
 * own paired Telegram account through the inline buttons under an approval notice, bound to the approval and a
 * single-use nonce, for risk low or medium only. Never by a message's text.
 */
export type ApprovalDecider = 'popover' | 'notification' | 'cli' | 'terminal' | 'telegram';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'used';

export interface ArgumentOriginView {
  readonly path: string;
  /** Invisible and bidirectional characters made visible. */
  readonly value: string;
  readonly origin: 'owner' | 'contact' | 'untrusted' | 'model';
  /** Plain words: "an email (from boss@example.com)". */
  readonly from: string;
}

/** One pending or decided approval as the owner sees it (popover, notification, `pavise approvals list`). */
export interface ApprovalView {
  readonly id: string;
  readonly tool: string;
  /** A sentence: "Send iMessage to Sam (+1 555 000 9999)". */
  readonly title: string;
  readonly effects: readonly Effect[];
  /** The exact arguments, canonical JSON. */
  readonly input: unknown;
  readonly reason: string;
  readonly risk: Risk;
  readonly untrustedOrigin: boolean;
  readonly origins: readonly ArgumentOriginView[];
  readonly grantable: boolean;
  readonly status: ApprovalStatus;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly decidedAt?: number;
  readonly decidedBy?: ApprovalDecider;
}

/** Approval ids are short, random and checkable: `ap_` and 12 lowercase base32 characters. */
export const APPROVAL_ID = /^ap_[a-z2-7]{12}$/;
