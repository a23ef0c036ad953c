import type { PlatformHooks } from '../snapshot.js';
import type { Handlers } from './handler.js';

/** What only the shell can do; without it (tests, the CLI) a pane reports "not opened". */
export function shellHandlers(platform: PlatformHooks): Handlers<'system.openPane' | 'window.openSettings'> {
  return {
    'system.openPane': async ({ pane }) => ({ opened: (await platform.openSystemPane?.(pane)) ?? false }),
    'window.openSettings': ({ section }) => {
      platform.openSettings?.(section);
      return { opened: true as const };
    },
  };
}
