import type { SystemPreferences } from 'electron';
import { revealInvisible } from '../main/common/visible-text.js';

/** The owner proving presence before a high-risk approval: Touch ID on Macs that have it. */
export interface OwnerCheck {
  /** Whether this Mac can ask for Touch ID right now (a sensor, enrolled fingers, not locked out). */
  available(): boolean;
  /** Resolves true only when the owner confirmed; a cancel, a failure or an error is false. */
  confirm(reason: string): Promise<boolean>;
}

export function touchIdCheck(systemPreferences: Pick<SystemPreferences, 'canPromptTouchID' | 'promptTouchID'>, platform: NodeJS.Platform): OwnerCheck {
  return {
    available: () => {
      if (platform !== 'darwin') return false;
      try {
        return systemPreferences.canPromptTouchID();
      } catch {
        return false;
      }
    },
    confirm: async (reason) => {
      try {
        await systemPreferences.promptTouchID(reason);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** macOS shows `"Pavise" is trying to <reason>`: one visible line, short enough for the sheet. */
export function touchIdReason(title: string): string {
  const line = revealInvisible(title).replace(/\s+/g, ' ').trim();
  return `approve: ${line.length > 120 ? `${line.slice(0, 119)}…` : line}`;
}
