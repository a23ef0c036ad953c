import type { Channel } from '../channels/channel.js';
import type { ApprovalView } from '../common/approvals.js';
import type { Config } from '../common/config-schema.js';
import type { ApprovalOutcome } from '../permissions/gate.js';
import type { Outbox } from '../storage/outbox.js';
import { approvalNotice, decidingHere, shownWholeInNotice, type RemoteApprovals } from './remote-approvals.js';

/** The chat of the owner's own turn that stopped for an approval. */
export interface NoticeTarget {
  readonly channel: Channel;
  readonly conversationId: string;
  readonly isGroup: boolean;
}

interface SentNotice {
  readonly target: NoticeTarget;
  readonly externalId: string;
  readonly text: string;
}

/** Notices remembered for updating; the oldest are forgotten past this (their approvals have long expired). */
const MAX_OPEN_NOTICES = 200;

/** What a notice says once its approval ended other than by a tap in the chat (`place`: see decidingHere). */
function ending(outcome: ApprovalOutcome, place: string): string {
  return {
    approved: `Approved ${place}.`,
    denied: `Denied ${place}.`,
    expired: 'Expired without an answer (expiry means no).',
    aborted: 'No longer needed: the turn was stopped.',
  }[outcome];
}

/**
 * The owner is never left in silence: a turn from a chat that stops for an approval says at once, in that chat, what
 * is waiting and where to decide (most computers running Pavise have no screen), with bound buttons where remote
 * decisions are allowed. Once the approval ends anywhere else, the notice says so and loses its buttons, so the chat never
 * shows a question that no longer stands.
 */
export class ApprovalNotices {
  /**
   * Notices still showing their question: approval id → the notice once sent (undefined if it was not). Held as a
   * promise because the owner may decide locally before the notice's send has returned.
   */
  readonly #open = new Map<string, Promise<SentNotice | undefined>>();

  constructor(
    private readonly deps: {
      readonly config: Pick<Config, 'approvals'>;
      readonly remote: Pick<RemoteApprovals, 'buttonsFor'>;
      readonly log: (line: string) => void;
      /** The platform the gateway runs on: where the notice tells the owner to decide. */
      readonly platform: NodeJS.Platform;
      /** Where the notice is recorded as Pavise's own send (see Outbox.recordDirect). */
      readonly outbox: Pick<Outbox, 'recordDirect' | 'markSent' | 'markFailed'>;
      readonly now: () => number;
    },
  ) {}

  /**
   * Sent directly, not through the outbox's queue: it goes only to the chat of the owner's own turn, and must not wait
   * behind held replies. It is recorded there first, so that its echo is known as Pavise's and never remembered or
   * answered as the owner's words (the notice quotes the action, which may hold words from untrusted text).
   */
  notify(approval: ApprovalView, target: NoticeTarget, signal: AbortSignal): void {
    const { channel } = target;
    const remote = channel.id === 'telegram' && !target.isGroup && this.deps.config.approvals.remote && approval.risk !== 'high' && shownWholeInNotice(approval);
    const text = approvalNotice(approval, remote, this.deps.platform);
    const buttons = remote ? this.deps.remote.buttonsFor(approval, text) : [];
    const idempotencyKey = `approval:${approval.id}`;
    const record = this.deps.outbox.recordDirect({ channel: channel.id, conversationId: target.conversationId, text, idempotencyKey }, this.deps.now());
    const failed = (reason: string): undefined => {
      this.deps.outbox.markFailed(record.id, reason, false, this.deps.now());
      this.deps.log(`${channel.id}: the approval notice was not sent — ${reason}`);
      return undefined;
    };
    const sent = channel
      .send({ conversationId: target.conversationId, text, idempotencyKey, ...(buttons.length > 0 ? { buttons } : {}) }, signal)
      .then(
        (result): SentNotice | undefined => {
          if (!result.ok) return failed(result.message);
          this.deps.outbox.markSent(record.id, this.deps.now(), result.externalIds);
          const externalId = result.externalIds.at(-1);
          return externalId === undefined ? undefined : { target, externalId, text };
        },
        (error: unknown) => failed(error instanceof Error ? error.message : 'the channel failed'),
      );
    if (!channel.replace) return;
    while (this.#open.size >= MAX_OPEN_NOTICES) this.#open.delete(this.#open.keys().next().value as string);
    this.#open.set(approval.id, sent);
  }

  /** An approval ended: its notice says how. A tap in Telegram already replaced its own notice. */
  settle(approval: ApprovalView, outcome: ApprovalOutcome, signal: AbortSignal): void {
    const sent = this.#open.get(approval.id);
    this.#open.delete(approval.id);
    if (!sent || approval.decidedBy === 'telegram') return;
    void sent
      .then(async (notice) => {
        if (!notice?.target.channel.replace) return;
        const { channel, conversationId } = notice.target;
        if (!(await channel.replace?.(conversationId, notice.externalId, `${notice.text}\n\n${ending(outcome, decidingHere(this.deps.platform).place)}`, signal))) {
          this.deps.log(`${channel.id}: the approval notice could not be updated`);
        }
      })
      .catch(() => this.deps.log('the approval notice could not be updated'));
  }
}
