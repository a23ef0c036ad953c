import type { ApprovalView } from '../../../main/common/approvals.js';
import type { ChatEvent, Snapshot } from '../../../main/common/ipc.js';
import { pavise } from '../api.js';
import { usePavise } from './store.js';

/**
 * Wires the core's pushes to store actions, outside any component, then reads the first state. Returns the
 * function that disconnects. `view` says what else the window needs at start.
 */
export function connectToCore(view: 'popover' | 'settings'): () => void {
  const store = usePavise.getState();
  const api = pavise();
  const offState = api.onState((snapshot: Snapshot) => {
    const state = usePavise.getState();
    state.applySnapshot(snapshot);
    // Settings shows pending pairing requests: re-read when they change.
    if (view === 'settings' && state.settings && pairingIds(snapshot.approvals) !== pairingIds(state.settings.channels.pendingPairings)) void state.loadSettings();
  });
  const offChat = api.onChatEvent((event: ChatEvent) => usePavise.getState().applyChatEvent(event));
  void store.loadState();
  if (view === 'popover') void store.loadChatHistory();
  else void store.loadSettings();
  return () => {
    offState();
    offChat();
  };
}

function pairingIds(approvals: readonly ApprovalView[]): string {
  return approvals
    .filter((approval) => approval.tool === 'pair_sender')
    .map((approval) => approval.id)
    .join(',');
}
