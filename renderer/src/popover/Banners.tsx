import { CirclePause, OctagonX, CircleAlert } from 'lucide-react';
import { usePavise } from '../store/store.js';

/** States that change what Pavise will do: paused, the circuit breaker, a core that does not answer. */
export function Banners() {
  const paused = usePavise((state) => state.paused);
  const breaker = usePavise((state) => state.breaker);
  const link = usePavise((state) => state.link);
  const linkError = usePavise((state) => state.linkError);
  const pauseError = usePavise((state) => state.pauseError);
  const busy = usePavise((state) => state.pauseBusy);
  const setPaused = usePavise((state) => state.setPaused);
  const notice = usePavise((state) => state.notices[0]);
  const drifted = usePavise((state) => state.driftedSkills);
  return (
    <>
      {link === 'failed' ? (
        <div className="banner banner-error" role="alert">
          <CircleAlert size={16} strokeWidth={1.75} aria-hidden />
          <p>Pavise’s core is not answering: {linkError}</p>
        </div>
      ) : null}
      {paused ? (
        <div className="banner banner-paused" role="status">
          <CirclePause size={16} strokeWidth={1.75} aria-hidden />
          <p>
            <strong>Paused.</strong> Nothing runs or sends until you resume.
          </p>
          <button type="button" className="btn btn-small" disabled={busy} onClick={() => void setPaused(false)}>
            Resume
          </button>
        </div>
      ) : null}
      {!paused && breaker.tripped ? (
        <div className="banner banner-error" role="status">
          <OctagonX size={16} strokeWidth={1.75} aria-hidden />
          <p>
            <strong>Sending stopped.</strong> {breaker.reason ?? 'A message cap was hit.'} Check Activity, then resume.
          </p>
          <button type="button" className="btn btn-small" disabled={busy} onClick={() => void setPaused(false)}>
            Resume sending
          </button>
        </div>
      ) : null}
      {notice ? (
        <div className="banner banner-error" role="status" data-testid="notice">
          <CircleAlert size={16} strokeWidth={1.75} aria-hidden />
          <p>{notice.text}</p>
        </div>
      ) : null}
      {drifted.length > 0 ? (
        <div className="banner banner-error" role="status">
          <CircleAlert size={16} strokeWidth={1.75} aria-hidden />
          <p>
            <strong>{drifted.length === 1 ? `Skill “${drifted[0]}” changed on disk.` : `Skills ${drifted.map((name) => `“${name}”`).join(', ')} changed on disk.`}</strong> Off until you review{' '}
            {drifted.length === 1 ? 'it' : 'them'} in Settings › Skills.
          </p>
        </div>
      ) : null}
      {pauseError ? (
        <div className="banner banner-error" role="alert">
          <CircleAlert size={16} strokeWidth={1.75} aria-hidden />
          <p>{pauseError}</p>
        </div>
      ) : null}
    </>
  );
}
