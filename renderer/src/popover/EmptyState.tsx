import { AlarmClock, Check, CircleX, ShieldCheck, ShieldX, UserCheck, Clock } from 'lucide-react';
import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ActivityItem } from '../../../main/common/ipc.js';
import { revealInvisible } from '../../../main/common/visible-text.js';
import { relativeTime } from '../shared/format.js';
import { usePavise } from '../store/store.js';

/** One calm line, then the last few things Pavise did. */
export function EmptyState() {
  const items = usePavise(useShallow((state) => state.recent));
  const recent = useMemo(() => [...items].sort((a, b) => b.ts - a.ts || b.id - a.id), [items]);
  const link = usePavise((state) => state.link);
  const nextUp = usePavise((state) => state.nextUp);
  if (link === 'loading') return null;
  return (
    <div className="empty">
      <div className="empty-line">
        <ShieldCheck size={16} strokeWidth={1.75} aria-hidden />
        <p>Nothing needs you.</p>
      </div>
      {nextUp ? (
        <div className="empty-line next-up" data-testid="next-up">
          <AlarmClock size={16} strokeWidth={1.75} aria-hidden />
          <p>
            <span className="secondary">Next up: </span>
            {revealInvisible(nextUp.title)}{' '}
            <time className="secondary" dateTime={new Date(nextUp.at).toISOString()}>
              · {dueTime(nextUp.at)}
            </time>
          </p>
        </div>
      ) : null}
      <section className="recent" aria-labelledby="recent-title">
        <h2 className="section-title" id="recent-title">
          Recently
        </h2>
        {recent.length === 0 ? (
          <p className="secondary recent-none">Nothing yet. What Pavise does will show up here.</p>
        ) : (
          <ul className="recent-list">
            {recent.map((item) => (
              <RecentRow key={item.id} item={item} />
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function RecentRow({ item }: { readonly item: ActivityItem }) {
  const Icon =
    item.kind === 'approval_decided'
      ? item.decision === 'deny'
        ? ShieldX
        : UserCheck
      : item.decision === 'failed'
        ? CircleX
        : item.kind === 'effect'
          ? Check
          : Clock;
  const what =
    item.kind === 'approval_decided'
      ? item.decision === 'deny'
        ? 'You denied'
        : item.decision?.startsWith('approve for')
          ? 'You allowed for 1 hour'
          : 'You approved'
      : item.decision === 'failed'
        ? 'Failed'
        : 'Done';
  const summary = revealInvisible(item.summary);
  return (
    <li className={`recent-row recent-${item.decision ?? item.kind}`}>
      <Icon size={16} strokeWidth={1.75} aria-hidden className="recent-icon" />
      <span className="recent-text" title={summary}>
        <span className="recent-what">{what}: </span>
        {summary}
      </span>
      <time className="recent-time" dateTime={new Date(item.ts).toISOString()}>
        {relativeTime(item.ts)}
      </time>
    </li>
  );
}

/** "14:30" today, "Tue 07:30" within a week, else the date. */
function dueTime(at: number): string {
  const date = new Date(at);
  const now = new Date();
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (date.toDateString() === now.toDateString()) return time;
  if (at - now.getTime() < 6 * 86_400_000) return `${date.toLocaleDateString(undefined, { weekday: 'short' })} ${time}`;
  return `${date.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} ${time}`;
}
