import { CircleAlert, Globe, House, MessageSquare, PenLine, ShieldAlert, Terminal, Trash2, CalendarDays, CircleDollarSign, UserPlus, Wrench, LoaderCircle } from 'lucide-react';
import { memo, useEffect, useId, useState, type ComponentType } from 'react';
import type { ApprovalView } from '../../../main/common/approvals.js';
import { revealInvisible } from '../../../main/common/visible-text.js';
import type { EffectKind } from '../../../main/common/effects.js';
import { timeLeft } from '../shared/format.js';
import { VisibleText } from '../shared/VisibleText.js';
import { usePavise } from '../store/store.js';
import { cardTitle, contentOf, originLines, RISK_WORDS } from './approval-content.js';
import { ExactContent } from './ExactContent.js';

type IconType = ComponentType<{ size?: number; strokeWidth?: number; 'aria-hidden'?: boolean; className?: string }>;

const EFFECT_ICONS: Readonly<Record<EffectKind, IconType>> = {
  send_message: MessageSquare,
  execute: Terminal,
  network: Globe,
  delete: Trash2,
  write_local: PenLine,
  modify_calendar: CalendarDays,
  spend: CircleDollarSign,
  read_private: ShieldAlert,
  control_device: House,
};

export interface ApprovalCardProps {
  readonly approval: ApprovalView;
  readonly leaving: boolean;
}

/**
 * One pending approval, read as a sentence: what (the title), exactly what (the quoted content), why it asks,
 * where each value came from; then Deny / Approve. The card leaves only after the core confirms the decision.
 */
export const ApprovalCard = memo(function ApprovalCard({ approval, leaving }: ApprovalCardProps) {
  const deciding = usePavise((state) => state.deciding[approval.id]);
  const error = usePavise((state) => state.approvalErrors[approval.id]);
  const decide = usePavise((state) => state.decide);
  const dismiss = usePavise((state) => state.dismissApproval);
  const titleId = useId();
  const reasonId = useId();
  const now = useNow(15_000);

  const Icon: IconType = approval.tool === 'pair_sender' ? UserPlus : approval.effects[0] ? EFFECT_ICONS[approval.effects[0].kind] : Wrench;
  const high = approval.risk === 'high';
  const left = timeLeft(approval.expiresAt, now);
  const final = error?.final === true;
  const busy = deciding !== undefined;
  const origins = originLines(approval.origins);

  return (
    <article
      className={`card risk-${approval.risk}${approval.untrustedOrigin ? ' untrusted' : ''}`}
      data-approval-id={approval.id}
      data-risk={approval.risk}
      data-leaving={leaving ? 'true' : undefined}
      data-final={final ? 'true' : undefined}
      aria-labelledby={titleId}
      aria-describedby={reasonId}
      aria-busy={busy}
      tabIndex={-1}
      inert={leaving}
    >
      <header className="card-head">
        <span className={`card-icon risk-${approval.risk}`}>
          <Icon size={16} strokeWidth={1.75} aria-hidden />
        </span>
        <h2 className="card-title" id={titleId}>
          <VisibleText text={cardTitle(approval)} />
        </h2>
      </header>

      <div className="card-badges">
        <span className={`badge risk-badge risk-${approval.risk}`}>{RISK_WORDS[approval.risk]}</span>
        {approval.untrustedOrigin ? (
          <span className="badge untrusted-badge">
            <ShieldAlert size={12} strokeWidth={2} aria-hidden />
            Untrusted origin
          </span>
        ) : null}
        <span className="card-expiry">{left ? `Expires in ${left}` : 'Expired — counts as denied'}</span>
      </div>

      {contentOf(approval).map((piece, index) => (
        <ExactContent key={index} piece={piece} />
      ))}

      <p className="card-reason" id={reasonId}>
        <span className="card-reason-lead">Why it’s asking: </span>
        <VisibleText text={revealInvisible(approval.reason)} />
      </p>

      {origins.length > 0 ? (
        <div className="origins">
          <h3 className="origins-title">Where each value came from</h3>
          <ul className="origins-list">
            {origins.map((line) => (
              <li key={`${line.origin}:${line.label}:${line.value}`} className={`origin origin-${line.origin}`}>
                <span className="origin-label">{line.label}</span>
                <span className="origin-value" title={line.value}>
                  <VisibleText text={line.value} />
                </span>
                <span className="origin-from">
                  {line.origin === 'untrusted' ? <span className="origin-tag">Untrusted · </span> : null}
                  {line.from}
                </span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      {error ? (
        <p className="card-error" role="alert">
          <CircleAlert size={16} strokeWidth={1.75} aria-hidden />
          <span>{error.message}</span>
        </p>
      ) : null}

      <div className="card-actions">
        {final ? (
          <button type="button" className="btn" data-default onClick={() => dismiss(approval.id)}>
            Dismiss
          </button>
        ) : (
          <>
            {approval.grantable ? (
              <button type="button" className="btn btn-quiet" disabled={busy} onClick={() => void decide(approval.id, 'grant')}>
                {deciding === 'grant' ? 'Allowing…' : 'Allow for 1 hour'}
              </button>
            ) : null}
            <span className="card-actions-spacer" />
            <button
              type="button"
              className={high ? 'btn btn-default' : 'btn'}
              data-action="deny"
              data-default={high ? true : undefined}
              disabled={busy}
              onClick={() => void decide(approval.id, 'deny')}
            >
              {deciding === 'deny' ? <LoaderCircle className="spin" size={14} aria-hidden /> : null}
              Deny
            </button>
            <button
              type="button"
              className={high ? 'btn btn-danger' : 'btn btn-default'}
              data-action="approve"
              data-default={high ? undefined : true}
              disabled={busy || !left}
              onClick={() => void decide(approval.id, 'approve')}
            >
              {deciding === 'approve' ? <LoaderCircle className="spin" size={14} aria-hidden /> : null}
              Approve
            </button>
          </>
        )}
      </div>
    </article>
  );
});

/** The current time, refreshed every `everyMs` (for "expires in"). */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
