import type { Snapshot } from '../../common/ipc.js';
import type { Handlers } from './handler.js';

export interface StateHandlerDeps {
  readonly snapshot: () => Snapshot;
  /** The pause switch (permissions/pause.ts). */
  readonly setPaused: (paused: boolean, actor: string) => void;
  /** Stops the popover's running turn, if any. */
  readonly abortTurn: () => void;
  readonly changed: () => void;
}

export function stateHandlers(deps: StateHandlerDeps): Handlers<'state.get' | 'pause.set'> {
  return {
    'state.get': () => deps.snapshot(),
    'pause.set': ({ paused }) => {
      deps.setPaused(paused, 'owner:popover');
      if (paused) deps.abortTurn();
      deps.changed();
      return { paused };
    },
  };
}
