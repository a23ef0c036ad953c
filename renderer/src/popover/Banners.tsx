import { CirclePause, OctagonX, CircleAlert } from 'lucide-react';
import { useCarapace } from '../store/store.js';

/** States that change what Carapace will do: paused, the circuit breaker, a core that does not answer. */
export function Banners() {
  const paused = useCarapace((state) => state.paused);
  const breaker = useCarapace((state) => state.breaker);
  const link = useCarapace((state) => state.link);
  const linkError = useCarapace((state) => state.linkError);
  const pauseError = useCarapace((state) => state.pauseError);
  const busy = useCarapace((state) => state.pauseBusy);
  const setPaused = useCarapace((state) => state.setPaused);
  return (
    <>
      {link === 'failed' ? (
        <div className="banner banner-error" role="alert">
          <CircleAlert size={16} strokeWidth={1.75} aria-hidden />
          <p>Carapace’s core is not answering: {linkError}</p>
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
      {pauseError ? (
        <div className="banner banner-error" role="alert">
          <CircleAlert size={16} strokeWidth={1.75} aria-hidden />
          <p>{pauseError}</p>
        </div>
      ) : null}
    </>
  );
}
