import type { ApprovalView } from '../common/approvals.js';
import { revealInvisible } from '../common/visible-text.js';

export interface CardStyle {
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly warn: (text: string) => string;
}

const PLAIN: CardStyle = { bold: (t) => t, dim: (t) => t, warn: (t) => t };

/** An approval as the terminal shows it: the sentence, the exact action, where each value came from, the risk. */
export function formatApprovalCard(approval: ApprovalView, style: CardStyle = PLAIN, now = Date.now()): string {
  const lines: string[] = [];
  const badge = approval.untrustedOrigin ? style.warn(' [UNTRUSTED ORIGIN]') : '';
  lines.push(`${style.bold(`Approval needed: ${approval.title}`)}${badge}`);
  lines.push(`  risk: ${approval.risk.toUpperCase()}   id: ${approval.id}   expires in ${Math.max(0, Math.round((approval.expiresAt - now) / 60_000))} min`);
  lines.push(`  why: ${approval.reason}`);
  // A command: the program it really runs and its hash (what the approval binds), and network access first of all.
  for (const effect of approval.effects) {
    if (effect.kind !== 'execute') continue;
    if (effect.network === true) lines.push(style.warn('  WITH NETWORK ACCESS: this command can reach any server on the internet or your network.'));
    if (effect.executable) lines.push(`  program: ${revealInvisible(effect.executable)}   SHA-256: ${effect.sha256 ?? 'unknown'}`);
    if (effect.cwd) lines.push(`  in: ${revealInvisible(effect.cwd)}`);
  }
  lines.push('  exact action:');
  for (const line of revealInvisible(JSON.stringify(approval.input, null, 2)).split('\n')) lines.push(`    ${line}`);
  const notable = approval.origins.filter((origin) => origin.origin !== 'owner');
  if (notable.length > 0) {
    lines.push('  where the values came from:');
    for (const origin of notable) {
      const marker = origin.origin === 'untrusted' ? style.warn('UNTRUSTED') : origin.origin.toUpperCase();
      lines.push(`    ${marker} ${origin.value} — ${origin.from}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function approvalPromptText(approval: ApprovalView): string {
  return approval.grantable ? 'Approve? [y]es once / [h]our for this target / [N]o: ' : 'Approve? [y]es once / [N]o: ';
}

/** Maps a typed answer to a decision. Anything but an explicit yes is a no. */
export function parseApprovalAnswer(answer: string, approval: ApprovalView): { decision: 'approve' | 'deny'; grantMinutes?: number } {
  const normalized = answer.trim().toLowerCase();
  if (normalized === 'y' || normalized === 'yes') return { decision: 'approve' };
  if (approval.grantable && (normalized === 'h' || normalized === 'hour')) return { decision: 'approve', grantMinutes: 60 };
  return { decision: 'deny' };
}
