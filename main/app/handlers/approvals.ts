import type { ApprovalView } from '../../common/approvals.js';
import type { IpcResult } from '../../common/ipc.js';
import type { PermissionGate } from '../../permissions/gate.js';
import type { Handlers } from './handler.js';

export interface ApprovalHandlerDeps {
  readonly gate: Pick<PermissionGate, 'decide'>;
  /** Something the popover shows changed. */
  readonly changed: () => void;
}

export function approvalHandlers(deps: ApprovalHandlerDeps): Handlers<'approvals.decide'> {
  return {
    'approvals.decide': (request): IpcResult<ApprovalView> => {
      const result = deps.gate.decide(request.id, request.decision, 'popover', request.grantMinutes ? { grantMinutes: request.grantMinutes } : {});
      deps.changed();
      return result.ok ? { ok: true, value: result.value } : { ok: false, code: result.code, message: result.message };
    },
  };
}
