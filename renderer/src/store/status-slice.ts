import type { ActivityItem, ChannelDot, Snapshot } from '../../../main/common/ipc.js';
import { call } from '../api.js';
import type { SliceCreator } from './types.js';

export interface StatusSlice {
  /** Whether the first snapshot arrived (`loading`), and what went wrong if it could not be read. */
  readonly link: 'loading' | 'ready' | 'failed';
  readonly linkError: string | undefined;
  readonly paused: boolean;
  readonly pauseBusy: boolean;
  readonly pauseError: string | undefined;
  readonly breaker: Snapshot['breaker'];
  readonly channels: readonly ChannelDot[];
  readonly model: Snapshot['model'];
  readonly spend: Snapshot['spend'];
  readonly recent: readonly ActivityItem[];
  readonly turnRunning: boolean;
  readonly nextUp: Snapshot['nextUp'];
  readonly notices: NonNullable<Snapshot['notices']>;
  /** A pushed or fetched snapshot replaces the core-owned state (approvals included). */
  applySnapshot(snapshot: Snapshot): void;
  loadState(): Promise<void>;
  setPaused(paused: boolean): Promise<void>;
}

export const createStatusSlice: SliceCreator<StatusSlice> = (set, get) => ({
  link: 'loading',
  linkError: undefined,
  paused: false,
  pauseBusy: false,
  pauseError: undefined,
  breaker: { tripped: false },
  channels: [],
  model: { provider: '', name: '' },
  spend: { todayUsd: 0, capUsd: 0 },
  recent: [],
  turnRunning: false,
  nextUp: undefined,
  notices: [],

  applySnapshot(snapshot) {
    const state = get();
    const ids = new Set(snapshot.approvals.map((approval) => approval.id));
    // A card being decided stays until the core answers that decision, even if a snapshot drops it first; a card
    // whose decision failed for good stays with its error until dismissed.
    const held = state.approvals.filter(
      (approval) =>
        (state.deciding[approval.id] || state.approvalErrors[approval.id]?.final) && !ids.has(approval.id) && !state.retained.some((kept) => kept.id === approval.id),
    );
    set({
      link: 'ready',
      linkError: undefined,
      approvals: snapshot.approvals,
      ...(held.length > 0 ? { retained: [...state.retained, ...held] } : {}),
      paused: snapshot.paused,
      breaker: snapshot.breaker,
      channels: snapshot.channels,
      model: snapshot.model,
      spend: snapshot.spend,
      recent: snapshot.recent,
      turnRunning: snapshot.turnRunning,
      nextUp: snapshot.nextUp,
      notices: snapshot.notices ?? [],
      driftedSkills: snapshot.driftedSkills ?? [],
    });
  },

  async loadState() {
    const result = await call((api) => api.getState());
    if (result.ok) get().applySnapshot(result.value);
    else set({ link: 'failed', linkError: result.message });
  },

  async setPaused(paused) {
    if (get().pauseBusy) return;
    set({ pauseBusy: true, pauseError: undefined });
    const result = await call((api) => api.setPaused({ paused }));
    // The switch shows what the core confirmed, never what was clicked.
    if (result.ok) set({ pauseBusy: false, paused: result.value.paused, ...(paused ? {} : { breaker: { tripped: false } }) });
    else set({ pauseBusy: false, pauseError: `Could not ${paused ? 'pause' : 'resume'}: ${result.message}` });
  },
});
