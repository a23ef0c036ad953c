import { CircleAlert, ShieldCheck, ShieldX } from 'lucide-react';
import { useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { revealInvisible } from '../../../main/common/visible-text.js';
import { ACTIVITY_DECISIONS, ACTIVITY_KINDS, actorWords, clockTime, decisionWords } from '../shared/format.js';
import { usePavise } from '../store/store.js';

/** Everything Pavise decided and did: a table with filters, and a check that nobody edited the log. */
export function ActivityPane() {
  const items = usePavise(useShallow((state) => state.activity));
  const filter = usePavise((state) => state.activityFilter);
  const activityState = usePavise((state) => state.activityState);
  const loadError = usePavise((state) => state.forms.activity);
  const setFilter = usePavise((state) => state.setActivityFilter);
  const loadActivity = usePavise((state) => state.loadActivity);

  useEffect(() => {
    void loadActivity();
  }, [loadActivity]);

  return (
    <div className="activity">
      <div className="toolbar">
        <div className="toolbar-field">
          <label htmlFor="activity-kind">Show</label>
          <select id="activity-kind" className="select" value={filter.kind} onChange={(event) => void setFilter({ kind: event.target.value })}>
            <option value="">Everything</option>
            {ACTIVITY_KINDS.map((kind) => (
              <option key={kind.value} value={kind.value}>
                {kind.label}
              </option>
            ))}
          </select>
        </div>
        <div className="toolbar-field">
          <label htmlFor="activity-decision">Decision</label>
          <select id="activity-decision" className="select" value={filter.decision} onChange={(event) => void setFilter({ decision: event.target.value })}>
            <option value="">Any</option>
            {ACTIVITY_DECISIONS.map((decision) => (
              <option key={decision} value={decision}>
                {decisionWords(decision)}
              </option>
            ))}
          </select>
        </div>
        <span className="toolbar-spacer" />
        <VerifyLog />
      </div>
      <VerifyResult />
      {activityState === 'failed' ? (
        <p className="inline-error" role="alert">
          <CircleAlert size={12} strokeWidth={2} aria-hidden />
          Could not read the activity log: {loadError?.message}
        </p>
      ) : null}
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Activity log">
        <table className="table table-wraps">
          <thead>
            <tr>
              <th scope="col" className="col-time">Time</th>
              <th scope="col">What</th>
              <th scope="col" className="col-to">To whom</th>
              <th scope="col" className="col-decision">Decision</th>
              <th scope="col" className="col-by">By whom</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => {
              const summary = revealInvisible(item.summary);
              return (
                <tr key={item.id} className={`kind-${item.kind}`}>
                  <td className="col-time">
                    <time dateTime={new Date(item.ts).toISOString()}>{clockTime(item.ts)}</time>
                  </td>
                  <td className="col-what" title={summary}>
                    <span className="clamp-2">{summary}</span>
                  </td>
                  <td className="col-to" title={item.target}>
                    <span className="clamp-2">{item.target ? revealInvisible(item.target) : '—'}</span>
                  </td>
                  <td className="col-decision">
                    <span className={`decision decision-${item.decision ?? 'none'}`}>{decisionWords(item.decision)}</span>
                  </td>
                  <td className="col-by">{actorWords(item.actor)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {items.length === 0 && activityState !== 'loading' ? <p className="table-empty secondary">Nothing matches these filters.</p> : null}
      </div>
    </div>
  );
}

function VerifyLog() {
  const verifying = usePavise((state) => state.verifying);
  const verify = usePavise((state) => state.verifyActivity);
  return (
    <button type="button" className="btn" disabled={verifying} onClick={() => void verify()}>
      {verifying ? 'Verifying…' : 'Verify log'}
    </button>
  );
}

function VerifyResult() {
  const result = usePavise((state) => state.verifyResult);
  if (!result) return null;
  if ('error' in result)
    return (
      <p className="verify verify-bad" role="alert">
        <CircleAlert size={16} strokeWidth={1.75} aria-hidden />
        The log could not be checked: {result.error}
      </p>
    );
  if (result.ok && result.unverifiable)
    return (
      <p className="verify verify-ok" role="status">
        <ShieldCheck size={16} strokeWidth={1.75} aria-hidden />
        Log verified from entry #{result.unverifiable + 1}: the {(result.count - result.unverifiable).toLocaleString()} entries since are intact. The{' '}
        {result.unverifiable.toLocaleString()} before were written under a key that is gone and cannot be checked.
      </p>
    );
  if (result.ok)
    return (
      <p className="verify verify-ok" role="status">
        <ShieldCheck size={16} strokeWidth={1.75} aria-hidden />
        Log verified: all {result.count.toLocaleString()} entries are intact — nothing was changed or removed.
      </p>
    );
  return (
    <p className="verify verify-bad" role="alert">
      <ShieldX size={16} strokeWidth={1.75} aria-hidden />
      The log does not verify{result.badRowId !== undefined ? ` at entry #${result.badRowId}` : ''}: {result.problem ?? 'an entry was changed or removed'}.
    </p>
  );
}
