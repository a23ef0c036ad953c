import { randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { preparedOnce, type Prepare } from './statements.js';
import { APPROVAL_ID, type ApprovalDecider, type ApprovalStatus, type ApprovalView, type ArgumentOriginView } from '../common/approvals.js';
import type { Effect, EffectKind, Risk } from '../common/effects.js';
import { err, ok, type Result } from '../common/result.js';

export interface NewApproval {
  readonly sessionId: string | undefined;
  readonly tool: string;
  readonly input: unknown;
  readonly effects: readonly Effect[];
  readonly provenance: { readonly origins: readonly ArgumentOriginView[]; readonly [key: string]: unknown };
  readonly hash: string;
  readonly title: string;
  readonly reason: string;
  readonly risk: Risk;
  readonly grantable: boolean;
  readonly ttlMs: number;
}

export type DecideError = 'invalid_id' | 'not_found' | 'expired' | 'already_decided' | 'not_grantable';
export type ConsumeError = 'not_found' | 'not_approved' | 'expired' | 'hash_mismatch' | 'already_used';

/** The longest a grant may last ("allow for 1 hour"). */
export const MAX_GRANT_MINUTES = 60;

interface Row {
  id: string;
  session_id: string | null;
  tool: string;
  input_json: string;
  effects_json: string;
  provenance_json: string;
  hash: string;
  title: string;
  reason: string;
  risk: Risk;
  grantable: number;
  status: ApprovalStatus;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  decided_by: ApprovalDecider | null;
  grant_minutes: number | null;
  used_at: number | null;
}

/**
 * Pending approvals live in SQLite so they survive a restart and can be decided from another process (the CLI
 * beside a running gateway). Every state change is a single conditional UPDATE, so two deciders cannot both win.
 */
export class ApprovalStore {
  readonly #sql: Prepare;

  /**
   * `grantTargetOf` is the policy's notion of an effect's target (permissions/policy.ts): a time-limited grant
   * covers exactly that target, and the policy compares against it.
   */
  constructor(
    private readonly db: Database,
    private readonly grantTargetOf: (effect: Effect) => string,
  ) {
    this.#sql = preparedOnce(db);
  }

  create(request: NewApproval, now = Date.now()): ApprovalView {
    const id = newApprovalId();
    this.#sql(
      `INSERT INTO approvals (id, session_id, tool, input_json, effects_json, provenance_json, hash, title, reason, risk,
         grantable, status, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
    ).run(
        id,
        request.sessionId ?? null,
        request.tool,
        JSON.stringify(request.input),
        JSON.stringify(request.effects),
        JSON.stringify(request.provenance),
        request.hash,
        request.title,
        request.reason,
        request.risk,
        request.grantable ? 1 : 0,
        now,
        now + request.ttlMs,
      );
    return this.get(id) as ApprovalView;
  }

  /** The session whose turn asked, so the one waiting can be told where it came from. */
  sessionOf(id: string): string | undefined {
    return (this.#sql('SELECT session_id FROM approvals WHERE id = ?').get(id) as { session_id: string | null } | undefined)?.session_id ?? undefined;
  }

  get(id: string): ApprovalView | undefined {
    const row = this.#sql('SELECT * FROM approvals WHERE id = ?').get(id) as Row | undefined;
    return row ? toView(row) : undefined;
  }

  hashOf(id: string): string | undefined {
    return (this.#sql('SELECT hash FROM approvals WHERE id = ?').get(id) as { hash: string } | undefined)?.hash;
  }

  /** Marks overdue pending approvals expired (expiry means "deny"). */
  expireStale(now = Date.now()): number {
    return this.#sql(`UPDATE approvals SET status = 'expired' WHERE status = 'pending' AND expires_at <= ?`).run(now).changes;
  }

  /** Ends a pending approval early, as if it had expired (which counts as "deny"); false when it was not pending. */
  expire(id: string, now = Date.now()): boolean {
    return this.db.prepare(`UPDATE approvals SET status = 'expired', expires_at = min(expires_at, ?) WHERE id = ? AND status = 'pending'`).run(now, id).changes === 1;
  }

  list(options: { status?: ApprovalStatus; limit?: number } = {}, now = Date.now()): ApprovalView[] {
    this.expireStale(now);
    const limit = options.limit ?? 100;
    const rows = (
      options.status
        ? this.#sql('SELECT * FROM approvals WHERE status = ? ORDER BY created_at DESC LIMIT ?').all(options.status, limit)
        : this.#sql('SELECT * FROM approvals ORDER BY created_at DESC LIMIT ?').all(limit)
    ) as Row[];
    return rows.map(toView);
  }

  /**
   * The approvals bound to `hash` that still say something: waiting, approved and not yet used, or denied. Read
   * through the status index, so the cost does not grow with the expired and used approvals behind them.
   */
  live(hash: string, now = Date.now()): ApprovalView[] {
    this.expireStale(now);
    const rows = this.#sql(
      `SELECT * FROM approvals WHERE status IN ('pending', 'approved', 'denied') AND hash = ? ORDER BY created_at DESC`,
    ).all(hash) as Row[];
    return rows.map(toView);
  }

  pending(now = Date.now()): ApprovalView[] {
    return this.list({ status: 'pending' }, now).reverse();
  }

  decide(
    id: string,
    decision: 'approve' | 'deny',
    by: ApprovalDecider,
    options: { grantMinutes?: number } = {},
    now = Date.now(),
  ): Result<ApprovalView, DecideError> {
    if (!APPROVAL_ID.test(id)) {
      return err('invalid_id', `"${id}" is not an approval ID (they look like ap_k3x7q2m5w4tz); run \`pavise approvals list\` to see them.`);
    }
    const grantMinutes = options.grantMinutes;
    const transaction = this.db.transaction((): Result<ApprovalView, DecideError> => {
      const row = this.#sql('SELECT * FROM approvals WHERE id = ?').get(id) as Row | undefined;
      if (!row) return err('not_found', `No approval ${id}; run \`pavise approvals list\` to see pending ones.`);
      if (row.status === 'pending' && row.expires_at <= now) {
        this.#sql(`UPDATE approvals SET status = 'expired' WHERE id = ?`).run(id);
        return err('expired', `Approval ${id} expired at ${new Date(row.expires_at).toISOString()} and was denied; ask Pavise again.`);
      }
      if (row.status === 'expired') return err('expired', `Approval ${id} expired and was denied; ask Pavise again.`);
      if (row.status !== 'pending') return err('already_decided', `Approval ${id} was already ${row.status === 'used' ? 'approved and used' : row.status}.`);
      if (decision === 'approve' && grantMinutes !== undefined) {
        if (row.grantable !== 1) return err('not_grantable', `Approval ${id} can be approved once only: this action is not low-risk enough for a time-limited grant.`);
        if (!Number.isInteger(grantMinutes) || grantMinutes < 1 || grantMinutes > MAX_GRANT_MINUTES) {
          return err('not_grantable', `A grant lasts 1 to ${MAX_GRANT_MINUTES} minutes.`);
        }
      }
      const status = decision === 'approve' ? 'approved' : 'denied';
      this.#sql(`UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?, grant_minutes = ? WHERE id = ? AND status = 'pending'`)
        .run(status, now, by, decision === 'approve' ? (grantMinutes ?? null) : null, id);
      if (decision === 'approve' && grantMinutes !== undefined) {
        for (const effect of JSON.parse(row.effects_json) as Effect[]) this.#addGrant(effect, id, now, now + grantMinutes * 60_000);
      }
      return ok(toView({ ...row, status, decided_at: now, decided_by: by, grant_minutes: grantMinutes ?? null }));
    });
    return transaction.immediate();
  }

  /**
   * Uses an approval exactly once. The hash of what is about to run must equal the hash that was approved.
   */
  consume(id: string, hash: string, now = Date.now()): Result<ApprovalView, ConsumeError> {
    const transaction = this.db.transaction((): Result<ApprovalView, ConsumeError> => {
      const row = this.#sql('SELECT * FROM approvals WHERE id = ?').get(id) as Row | undefined;
      if (!row) return err('not_found', `No approval ${id}.`);
      if (row.status === 'used') return err('already_used', `Approval ${id} was already used; approvals are single-use.`);
      if (row.status !== 'approved') return err('not_approved', `Approval ${id} is ${row.status}, not approved.`);
      if (row.hash !== hash) return err('hash_mismatch', `What was about to run differs from what approval ${id} was given for; refused.`);
      if (row.expires_at <= now && row.decided_at !== null && row.decided_at > row.expires_at) {
        return err('expired', `Approval ${id} was decided after it expired.`);
      }
      this.#sql(`UPDATE approvals SET status = 'used', used_at = ? WHERE id = ? AND status = 'approved'`).run(now, id);
      return ok(toView({ ...row, status: 'used', used_at: now }));
    });
    return transaction.immediate();
  }

  activeGrants(now = Date.now()): GrantRow[] {
    return (
      this.#sql('SELECT id, kind, target, expires_at FROM grants WHERE expires_at > ?').all(now) as {
        id: string;
        kind: EffectKind;
        target: string;
        expires_at: number;
      }[]
    ).map((row) => ({ id: row.id, kind: row.kind, target: row.target, expiresAt: row.expires_at }));
  }

  #addGrant(effect: Effect, approvalId: string, now: number, expiresAt: number): void {
    const target = this.grantTargetOf(effect);
    this.#sql('INSERT INTO grants (id, kind, target, approval_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(`gr_${randomBase32(12)}`, effect.kind, target, approvalId, now, expiresAt);
  }
}

/** An unexpired time-limited grant: effects of `kind` on `target` need no approval until `expiresAt`. */
export interface GrantRow {
  readonly id: string;
  readonly kind: EffectKind;
  readonly target: string;
  readonly expiresAt: number;
}

function toView(row: Row): ApprovalView {
  const provenance = JSON.parse(row.provenance_json) as { origins?: ArgumentOriginView[] };
  const origins = provenance.origins ?? [];
  return {
    id: row.id,
    tool: row.tool,
    title: row.title,
    effects: JSON.parse(row.effects_json) as Effect[],
    input: JSON.parse(row.input_json) as unknown,
    reason: row.reason,
    risk: row.risk,
    untrustedOrigin: origins.some((origin) => origin.origin === 'untrusted') || /not from you|not by you|has read/.test(row.reason),
    origins,
    grantable: row.grantable === 1,
    status: row.status,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    ...(row.decided_at !== null ? { decidedAt: row.decided_at } : {}),
    ...(row.decided_by !== null ? { decidedBy: row.decided_by } : {}),
  };
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function randomBase32(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += BASE32[byte % 32];
  return out;
}

export function newApprovalId(): string {
  return `ap_${randomBase32(12)}`;
}
