import type { ApprovalView } from '../../../main/common/approvals.js';
import { call } from '../api.js';
import type { SliceCreator } from './types.js';

export type Decision = 'approve' | 'deny' | 'grant';

export interface ApprovalError {
  readonly code: string;
  /** Words that say what happened and what to do. */
  readonly message: string;
  /** True when the approval can no longer be decided (expired, decided elsewhere, gone). */
  readonly final: boolean;
}

export interface ApprovalsSlice {
  /** Pending approvals, as the core last reported them, oldest first. */
  readonly approvals: readonly ApprovalView[];
  /** Cards kept on screen after the core dropped them, because deciding them failed: the error stays in place. */
  readonly retained: readonly ApprovalView[];
  readonly deciding: Readonly<Record<string, Decision>>;
  readonly approvalErrors: Readonly<Record<string, ApprovalError>>;
  decide(id: string, decision: Decision): Promise<boolean>;
  dismissApproval(id: string): void;
}

const FINAL_CODES = new Set(['expired', 'already_decided', 'not_found', 'invalid_id']);

/** The core's codes in words that say what to do next. */
export function approvalErrorWords(code: string, message: string): string {
  switch (code) {
    case 'expired':
      return 'This request expired, so it counts as denied. Nothing was done; ask Pavise again if you still want it.';
    case 'already_decided':
      return 'This request was already decided somewhere else (a notification or the terminal).';
    case 'not_found':
    case 'invalid_id':
      return 'Pavise no longer has this request. Nothing was done.';
    case 'not_grantable':
      return 'This one cannot be allowed for an hour. Approve it once, or deny it.';
    default:
      return message;
  }
}

export const createApprovalsSlice: SliceCreator<ApprovalsSlice> = (set, get) => ({
  approvals: [],
  retained: [],
  deciding: {},
  approvalErrors: {},

  async decide(id, decision) {
    if (get().deciding[id]) return false;
    const shown = get().approvals.find((item) => item.id === id) ?? get().retained.find((item) => item.id === id);
    set((state) => ({ deciding: { ...state.deciding, [id]: decision }, approvalErrors: without(state.approvalErrors, id) }));
    const result = await call((api) =>
      api.decideApproval(decision === 'grant' ? { id, decision: 'approve', grantMinutes: 60 } : { id, decision }),
    );
    set((state) => {
      const deciding = without(state.deciding, id);
      if (result.ok) {
        // The core confirmed: only now does the card leave.
        return { deciding, approvals: state.approvals.filter((item) => item.id !== id), retained: state.retained.filter((item) => item.id !== id) };
      }
      const error: ApprovalError = { code: result.code, message: approvalErrorWords(result.code, result.message), final: FINAL_CODES.has(result.code) };
      const stillPending = state.approvals.some((item) => item.id === id);
      const keep = shown && !stillPending && !state.retained.some((item) => item.id === id);
      const retained = keep ? [...state.retained, shown] : state.retained;
      return { deciding, approvalErrors: { ...state.approvalErrors, [id]: error }, retained };
    });
    return result.ok;
  },

  dismissApproval(id) {
    set((state) => ({ retained: state.retained.filter((item) => item.id !== id), approvalErrors: without(state.approvalErrors, id) }));
  },
});

/** What the popover shows: the pending approvals, with failed cards kept in their place. */
export function visibleApprovals(state: Pick<ApprovalsSlice, 'approvals' | 'retained'>): readonly ApprovalView[] {
  if (state.retained.length === 0) return state.approvals;
  const pendingIds = new Set(state.approvals.map((item) => item.id));
  const kept = state.retained.filter((item) => !pendingIds.has(item.id));
  return [...state.approvals, ...kept].sort((a, b) => a.createdAt - b.createdAt);
}

function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  if (!(key in record)) return record;
  const { [key]: _removed, ...rest } = record;
  return rest;
}
