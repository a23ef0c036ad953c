import { usePavise } from '../store/store.js';

/** The most important control: stops every model call, tool and outbound message until switched off. */
export function PauseSwitch() {
  const paused = usePavise((state) => state.paused);
  const busy = usePavise((state) => state.pauseBusy);
  const setPaused = usePavise((state) => state.setPaused);
  return (
    <button
      type="button"
      role="switch"
      aria-checked={paused}
      aria-label="Pause Pavise"
      aria-busy={busy}
      className={paused ? 'pause-switch on' : 'pause-switch'}
      title={paused ? 'Paused: nothing runs or sends. Click to resume.' : 'Pause everything Pavise does'}
      onClick={() => void setPaused(!paused)}
    >
      <span className="pause-text">{paused ? 'Paused' : 'Pause'}</span>
      <span className="switch-track" aria-hidden>
        <span className="switch-thumb" />
      </span>
    </button>
  );
}
