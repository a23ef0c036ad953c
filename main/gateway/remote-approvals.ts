import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ButtonTap, MessageButton, TapAnswer } from '../channels/channel.js';
import type { ApprovalView } from '../common/approvals.js';
import { revealInvisible } from '../common/visible-text.js';
import type { Config } from '../common/config-schema.js';
import { roleOf } from '../identity/roles.js';
import type { PermissionGate } from '../permissions/gate.js';
import type { ApprovalStore } from '../storage/approval-store.js';
import type { ChannelStore } from '../storage/channel-store.js';

/** Callback data: `pv1 <approval id> <nonce> <a|d>`, well under Telegram's 64 bytes. */
const DATA = /^pv1 (ap_[a-z2-7]{12}) ([A-Za-z0-9_-]{22}) ([ad])$/;
/** Buttons older than this many notices are refused ("no longer valid") rather than remembered forever. */
const REMEMBERED_NOTICES = 500;

export interface RemoteApprovalDeps {
  readonly config: Config;
  readonly channels: ChannelStore;
  readonly approvals: Pick<ApprovalStore, 'get' | 'expireStale'>;
  readonly gate: Pick<PermissionGate, 'decide'>;
  readonly now: () => number;
  /** The platform the gateway runs on: where the owner can decide locally (see decidingHere). */
  readonly platform: NodeJS.Platform;
}

/**
 * Where the owner decides on the computer the gateway runs on, in the words a chat shows: on a Mac, Pavise in the
 * menu bar (Touch ID for high risk) or the CLI; elsewhere (a headless Linux box) there is no menu bar, only the CLI.
 * `place` ends a sentence like "Approved …"; `decide` follows "decide" in a short answer to a tap.
 */
export function decidingHere(platform: NodeJS.Platform): { readonly place: string; readonly decide: string; readonly decideHighRisk: string } {
  if (platform === 'darwin') return { place: 'on the Mac', decide: 'on the Mac', decideHighRisk: 'on the Mac (Touch ID)' };
  const place = 'on the computer Pavise runs on';
  return { place, decide: `${place} (\`pavise approvals\`)`, decideHighRisk: `${place} (\`pavise approvals\`)` };
}

/**
 * The one path by which an approval is decided away from the computer Pavise runs on: the owner's own paired
 * Telegram account, in its private chat with the bot, taps a button whose data binds the approval id and a nonce used
 * once, for risk low or medium. Nonces are held in this process only: after a restart the old buttons are refused, never guessed at.
 */
export class RemoteApprovals {
  /** approval id → the notice's nonce and text (the text is what the notice becomes after a decision). */
  readonly #issued = new Map<string, { readonly nonce: Buffer; readonly notice: string }>();

  constructor(private readonly deps: RemoteApprovalDeps) {}

  /** Buttons for a notice, or none when remote decisions are off or the risk is high (decided only locally). */
  buttonsFor(approval: ApprovalView, notice: string): MessageButton[] {
    if (!this.deps.config.approvals.remote || approval.risk === 'high') return [];
    const nonce = randomBytes(16);
    this.#issued.set(approval.id, { nonce, notice });
    while (this.#issued.size > REMEMBERED_NOTICES) this.#issued.delete(this.#issued.keys().next().value as string);
    const data = (choice: 'a' | 'd'): string => `pv1 ${approval.id} ${nonce.toString('base64url')} ${choice}`;
    return [
      { text: 'Approve', data: data('a') },
      { text: 'Deny', data: data('d') },
    ];
  }

  /** Checks a tap and, when it passes, decides the approval as `telegram`. A refused tap changes nothing. */
  tap(tap: ButtonTap): TapAnswer {
    const here = decidingHere(this.deps.platform);
    if (!this.deps.config.approvals.remote) return { text: `Deciding from Telegram is turned off; decide ${here.decide}.` };
    const match = DATA.exec(tap.data);
    if (tap.channel !== 'telegram' || !match) return { text: 'Not a Pavise approval button.' };
    const [, id, nonceText, choice] = match as unknown as [string, string, string, 'a' | 'd'];
    if (!tap.isPrivate || tap.conversationId !== tap.sender) return { text: 'Approvals are decided only in your private chat with Pavise.' };
    if (roleOf(this.deps.config, this.deps.channels, 'telegram', tap.sender) !== 'owner') return { text: 'Only Pavise’s owner can decide this.' };
    const issued = this.#issued.get(id);
    const nonce = Buffer.from(nonceText, 'base64url');
    if (!issued || issued.nonce.length !== nonce.length || !timingSafeEqual(issued.nonce, nonce)) {
      return { text: `This button is no longer valid; decide ${here.decide}.` };
    }
    this.#issued.delete(id);
    this.deps.approvals.expireStale(this.deps.now());
    const approval = this.deps.approvals.get(id);
    if (!approval || approval.status !== 'pending') {
      const state = approval?.status === 'expired' ? 'expired' : 'already decided';
      return { text: `This approval is ${state}.`, replaceWith: `${issued.notice}\n\n${state === 'expired' ? 'Expired' : 'Already decided'}.` };
    }
    if (approval.risk === 'high') return { text: `High risk: decide ${here.decideHighRisk}.` };
    const decision = choice === 'a' ? 'approve' : 'deny';
    const result = this.deps.gate.decide(id, decision, 'telegram');
    if (!result.ok) return { text: `Not decided: ${result.message}` };
    const word = decision === 'approve' ? 'Approved' : 'Denied';
    return { text: word, replaceWith: `${issued.notice}\n\n${word} from Telegram.` };
  }
}

/** The longest content a notice shows; a longer one is decided on the computer Pavise runs on, where the card shows it whole. */
export const NOTICE_CONTENT_LIMIT = 2000;

/**
 * What the approval would do that its title does not say: write_file's title names the file, not its content;
 * create_event's names the event and its guests, not its time, place or notes (which the invitation mails to every
 * guest). The owner approves from a notice only what the notice shows whole.
 */
function untitledContent(approval: Pick<ApprovalView, 'tool' | 'input' | 'effects'>): { readonly label: string; readonly text: string } | undefined {
  if (approval.tool === 'write_file') {
    const content = (approval.input as { content?: unknown } | null)?.content;
    return typeof content === 'string' ? { label: 'Content, exactly', text: content } : undefined;
  }
  const changes = approval.effects.flatMap((effect) => (effect.kind === 'modify_calendar' ? [effect.what] : []));
  return changes.length > 0 ? { label: 'Calendar change, exactly', text: changes.join('\n') } : undefined;
}

/**
 * Whether the notice can show the whole action, so that it may be decided from it. Measured as shown, invisible
 * characters spelled out: a few hundred zero-width spaces would otherwise carry the notice past one chat message.
 */
export function shownWholeInNotice(approval: Pick<ApprovalView, 'tool' | 'input' | 'effects'>): boolean {
  const content = untitledContent(approval);
  return content === undefined || revealInvisible(content.text).length <= NOTICE_CONTENT_LIMIT;
}

/**
 * The notice: what is waiting (with content its title leaves out), and where to decide: here in the chat when
 * `remote` (buttons), and on the computer the gateway runs on (`platform`): the menu bar on a Mac, the approval's own
 * `pavise approvals` commands elsewhere.
 */
export function approvalNotice(approval: ApprovalView, remote: boolean, platform: NodeJS.Platform): string {
  let where: string;
  if (platform === 'darwin') {
    where =
      approval.risk === 'high'
        ? 'High risk: decide on the Mac (Pavise in the menu bar, Touch ID).'
        : remote
          ? 'Approve or deny here, or on the Mac (Pavise in the menu bar).'
          : 'Decide on the Mac (Pavise in the menu bar, or `pavise approvals`).';
  } else {
    const commands = `\`pavise approvals approve ${approval.id}\` or \`pavise approvals deny ${approval.id}\``;
    const place = decidingHere(platform).place;
    where = approval.risk === 'high' ? `High risk: decide ${place}: ${commands}.` : remote ? `Approve or deny here, or ${place}: ${commands}.` : `Decide ${place}: ${commands}.`;
  }
  const content = untitledContent(approval);
  const shown =
    content === undefined
      ? ''
      : shownWholeInNotice(approval)
        ? `\n\n${content.label}:\n${revealInvisible(content.text)}\n\n`
        : ` (${content.text.length} characters of content, too long to show here) `;
  return `Waiting for your approval: ${approval.title}.${shown === '' ? ' ' : shown}${where}`;
}
