import { closeSync, openSync } from 'node:fs';
import type { App, Shell } from 'electron';
import type { PlatformHooks } from '../main/app/backend.js';
import type { ChannelStatus } from '../main/channels/channel.js';
import { SETTINGS_URLS } from '../main/common/settings-urls.js';

export type SystemPane = 'full-disk-access' | 'automation' | 'notifications' | 'calendars' | 'contacts';
export type FullDiskAccess = 'granted' | 'denied' | 'unknown';

/** The only URLs the app ever hands to `shell.openExternal`: fixed System Settings panes. */
export const SYSTEM_PANE_URLS: Readonly<Record<SystemPane, string>> = SETTINGS_URLS;

/**
 * Full Disk Access cannot be asked about directly; opening Messages' database tells. EPERM/EACCES means denied;
 * a missing database (Messages never used) says nothing.
 */
export function probeFullDiskAccess(chatDbPath: string, platform: NodeJS.Platform): FullDiskAccess {
  if (platform !== 'darwin') return 'unknown';
  try {
    closeSync(openSync(chatDbPath, 'r'));
    return 'granted';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EPERM' || code === 'EACCES' ? 'denied' : 'unknown';
  }
}

export interface ShellPlatformOptions {
  readonly platform: NodeJS.Platform;
  readonly app: Pick<App, 'getLoginItemSettings' | 'setLoginItemSettings'>;
  readonly shell: Pick<Shell, 'openExternal'>;
  readonly chatDbPath: string;
  readonly openSettings: (section?: string) => void;
  readonly channelStatuses: () => readonly ChannelStatus[];
  /** Called when the Full Disk Access answer changes, so the UI can be told. */
  readonly onFullDiskAccessChange?: (value: FullDiskAccess) => void;
}

export interface ShellPlatform extends Required<Omit<PlatformHooks, 'pickSkillPath'>> {
  /** Re-reads Full Disk Access (the owner may have just granted it in System Settings); true when it changed. */
  recheckFullDiskAccess(): boolean;
}

/** What only the Electron shell can do for the core (PlatformHooks of main/app/backend.ts). */
export function createShellPlatform(options: ShellPlatformOptions): ShellPlatform {
  let fullDiskAccess = probeFullDiskAccess(options.chatDbPath, options.platform);
  return {
    openSystemPane: async (pane) => {
      if (options.platform !== 'darwin' || !Object.hasOwn(SYSTEM_PANE_URLS, pane)) return false;
      await options.shell.openExternal(SYSTEM_PANE_URLS[pane]);
      return true;
    },
    openSettings: (section) => options.openSettings(section),
    getOpenAtLogin: () => options.app.getLoginItemSettings().openAtLogin,
    setOpenAtLogin: (enabled) => options.app.setLoginItemSettings({ openAtLogin: enabled }),
    fullDiskAccess: () => fullDiskAccess,
    channelStatuses: () => options.channelStatuses(),
    recheckFullDiskAccess: () => {
      const next = probeFullDiskAccess(options.chatDbPath, options.platform);
      if (next === fullDiskAccess) return false;
      fullDiskAccess = next;
      options.onFullDiskAccessChange?.(next);
      return true;
    },
  };
}
