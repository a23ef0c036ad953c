import { Cpu, Settings } from 'lucide-react';
import { useShallow } from 'zustand/react/shallow';
import type { ChannelDot } from '../../../main/common/ipc.js';
import { call } from '../api.js';
import { CHANNEL_NAMES, money } from '../shared/format.js';
import { usePavise } from '../store/store.js';
import { PauseSwitch } from './PauseSwitch.js';

const STATE_WORDS: Readonly<Record<ChannelDot['state'], string>> = {
  connected: 'connected',
  starting: 'starting',
  retrying: 'reconnecting',
  stopped: 'stopped',
  needs_setup: 'needs setup',
  off: 'off',
};

/** Always visible: channels, model, today's spend against the cap, and the pause switch. */
export function StatusRow() {
  return (
    <section className="status" aria-label="Status">
      <div className="status-line">
        <ChannelDots />
        <ModelName />
        <button type="button" className="icon-button" aria-label="Open Settings" title="Settings (⌘,)" onClick={() => void call((api) => api.openSettings({}))}>
          <Settings size={16} strokeWidth={1.75} aria-hidden />
        </button>
      </div>
      <div className="status-line">
        <SpendMeter />
        <PauseSwitch />
      </div>
    </section>
  );
}

function ChannelDots() {
  const channels = usePavise(useShallow((state) => state.channels));
  return (
    <ul className="channels" aria-label="Channels">
      {channels.map((dot) => {
        const name = CHANNEL_NAMES[dot.channel] ?? dot.channel;
        const words = STATE_WORDS[dot.state] + (dot.detail ? ` — ${dot.detail}` : '');
        return (
          <li key={dot.channel} className={`channel channel-${dot.state}`} title={`${name}: ${words}`}>
            <span className="dot" aria-hidden />
            {name}
            <span className="sr-only">: {words}</span>
          </li>
        );
      })}
    </ul>
  );
}

function ModelName() {
  const name = usePavise((state) => state.model.name);
  const provider = usePavise((state) => state.model.provider);
  if (!name) return null;
  return (
    <span className="model" title={`Model: ${name} (${provider})`}>
      <Cpu size={12} strokeWidth={2} aria-hidden />
      <span className="sr-only">Model: </span>
      <span className="model-name">{name}</span>
    </span>
  );
}

function SpendMeter() {
  const today = usePavise((state) => state.spend.todayUsd);
  const cap = usePavise((state) => state.spend.capUsd);
  const fraction = cap > 0 ? Math.min(1, today / cap) : today > 0 ? 1 : 0;
  const level = fraction >= 1 ? 'over' : fraction >= 0.8 ? 'near' : 'ok';
  const words = `${money(today)} of ${money(cap)} today`;
  return (
    <div className="spend">
      <div
        className={`spend-bar spend-${level}`}
        role="meter"
        aria-label="Today’s spend"
        aria-valuemin={0}
        aria-valuemax={cap}
        aria-valuenow={Math.min(today, cap)}
        aria-valuetext={words}
      >
        <span className="spend-fill" style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
      </div>
      <span className="spend-figures">
        {money(today)} <span className="secondary">of {money(cap)} today</span>
      </span>
    </div>
  );
}
