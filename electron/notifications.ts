import { Notification } from 'electron';
import type { ApprovalView } from '../main/common/approvals.js';
import type { Effect } from '../main/common/effects.js';
import { revealInvisible } from '../main/common/visible-text.js';
import { touchIdReason, type OwnerCheck } from './touch-id.js';

/** Longest exact-action text a notification shows; anything longer is approved only in the popover. */
export const NOTIFICATION_BODY_LIMIT = 240;

export type NotificationAction = 'approve' | 'deny' | 'review';

export interface NotifierOptions {
  /** The gate's decide, as the notification: `services.gate.decide(id, decision, 'notification')`. */
  readonly decide: (id: string, decision: 'approve' | 'deny') => { ok: boolean; message?: string };
  readonly approval: (id: string) => ApprovalView | undefined;
  readonly ownerCheck: OwnerCheck;
  readonly openPopover: () => void;
  readonly log?: (line: string) => void;
}

function effectLine(effect: Effect): string {
  switch (effect.kind) {
    case 'send_message':
      return `“${effect.text}”`;
    case 'execute':
      return effect.argv.join(' ');
    case 'network':
      return `${effect.method ?? 'GET'} ${effect.url ?? effect.host}`;
    case 'spend':
      return `$${effect.amountUsd.toFixed(2)} — ${effect.what}`;
    case 'write_local':
      return effect.path ? `${effect.what} (${effect.path})` : effect.what;
    case 'delete':
      return `Delete ${effect.target}`;
    case 'control_device':
      return `${effect.action} ${effect.entity}`;
    default:
      return effect.what;
  }
}

/** The exact action in words, invisible characters made visible. */
export function exactAction(approval: ApprovalView): string {
  const text = approval.effects.length > 0 ? approval.effects.map(effectLine).join('\n') : JSON.stringify(approval.input);
  return revealInvisible(text);
}

/**
 * Which buttons a notification offers. Approve appears only when the notification shows the whole action and,
 * for high risk, Touch ID can confirm it; otherwise the owner reviews it in the popover.
 */
export function notificationActions(approval: ApprovalView, touchIdAvailable: boolean): NotificationAction[] {
  const complete = exactAction(approval).length <= NOTIFICATION_BODY_LIMIT;
  const approvable = complete && (approval.risk !== 'high' || touchIdAvailable);
  return approvable ? ['approve', 'deny'] : ['review', 'deny'];
}

const LABELS: Readonly<Record<NotificationAction, string>> = { approve: 'Approve', deny: 'Deny', review: 'Review…' };

/**
 * One macOS notification per new approval, with Approve / Deny actions that go to the same gate as the popover
 * (decided by 'notification'). A high-risk approval is approved from a notification only after Touch ID. A
 * notification is withdrawn once its approval is decided anywhere.
 */
export class ApprovalNotifier {
  readonly #shown = new Map<string, { notification: Notification; actions: NotificationAction[] }>();
  /** Each approval is announced once, however many times it is seen (event, snapshot, restart of a window). */
  readonly #seen = new Set<string>();

  constructor(private readonly options: NotifierOptions) {}

  get shownIds(): string[] {
    return [...this.#shown.keys()];
  }

  notify(approval: ApprovalView): void {
    if (approval.status !== 'pending' || this.#seen.has(approval.id) || !Notification.isSupported()) return;
    this.#seen.add(approval.id);
    const actions = notificationActions(approval, this.options.ownerCheck.available());
    const action = exactAction(approval);
    const body = action.length > NOTIFICATION_BODY_LIMIT ? `${action.slice(0, NOTIFICATION_BODY_LIMIT - 1)}… (open Pavise to see all)` : action;
    const notification = new Notification({
      id: approval.id,
      title: revealInvisible(approval.title),
      subtitle: `${approval.risk[0]?.toUpperCase()}${approval.risk.slice(1)} risk${approval.untrustedOrigin ? ' · from untrusted content' : ''}`,
      body: `${body}\n${revealInvisible(approval.reason)}`,
      actions: actions.map((name) => ({ type: 'button' as const, text: LABELS[name] })),
      closeButtonText: 'Later',
      silent: false,
      urgency: approval.risk === 'high' ? 'critical' : 'normal',
      timeoutType: 'never',
    });
    notification.on('action', (event, legacyIndex) => {
      const index = typeof event.actionIndex === 'number' ? event.actionIndex : legacyIndex;
      const chosen = actions[index];
      if (chosen) void this.act(approval.id, chosen);
    });
    notification.on('click', () => this.options.openPopover());
    notification.on('close', () => this.#shown.delete(approval.id));
    this.#shown.set(approval.id, { notification, actions });
    notification.show();
  }

  /** What a notification button does. Approving high risk waits for Touch ID; a refusal leaves it pending. */
  async act(id: string, action: NotificationAction): Promise<void> {
    const approval = this.options.approval(id);
    if (!approval || approval.status !== 'pending') return;
    if (action === 'review') {
      this.options.openPopover();
      return;
    }
    if (action === 'approve') {
      if (!notificationActions(approval, this.options.ownerCheck.available()).includes('approve')) {
        this.options.openPopover();
        return;
      }
      if (approval.risk === 'high' && !(await this.options.ownerCheck.confirm(touchIdReason(approval.title)))) {
        this.options.log?.(`Touch ID did not confirm ${id}; it stays pending`);
        return;
      }
    }
    const result = this.options.decide(id, action);
    if (!result.ok) this.options.log?.(`could not ${action} ${id} from a notification: ${result.message ?? 'refused'}`);
    this.withdraw(id);
  }

  /** Withdraws notifications whose approvals are no longer pending (decided in the popover, the CLI, expired). */
  sync(pendingIds: ReadonlySet<string>): void {
    for (const id of [...this.#shown.keys()]) if (!pendingIds.has(id)) this.withdraw(id);
  }

  withdraw(id: string): void {
    const shown = this.#shown.get(id);
    if (!shown) return;
    this.#shown.delete(id);
    shown.notification.close();
  }

  dispose(): void {
    for (const id of [...this.#shown.keys()]) this.withdraw(id);
  }
}
