import { useCarapace } from '../store/store.js';

/** The most important control: stops every model call, tool and outbound message until switched off. */
export function PauseSwitch() {
  const paused = useCarapace((state) => state.paused);
  const busy = useCarapace((state) => state.pauseBusy);
  const setPaused = useCarapace((state) => state.setPaused);
  return (
    <button
      type="button"
      role="switch"
      aria-checked={paused}
      aria-label="Pause Carapace"
      aria-busy={busy}
      className={paused ? 'pause-switch on' : 'pause-switch'}
      title={paused ? 'Paused: nothing runs or sends. Click to resume.' : 'Pause everything Carapace does'}
      onClick={() => void setPaused(!paused)}
    >
      <span className="pause-text">{paused ? 'Paused' : 'Pause'}</span>
      <span className="switch-track" aria-hidden>
        <span className="switch-thumb" />
      </span>
    </button>
  );
}
