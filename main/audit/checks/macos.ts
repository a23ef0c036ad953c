import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { SETTINGS_URLS } from '../../common/settings-urls.js';
import { defaultChatDbPath } from '../../config/paths.js';
import type { Audit, Finding } from './context.js';

/** The macOS permissions the channels need. */

export async function checkMacosPermissions(audit: Audit): Promise<Finding> {
  if (audit.platform !== 'darwin') return { severity: 'info', message: `Not macOS (${audit.platform}): Full Disk Access does not apply.`, fix: '' };
  const chatDb = defaultChatDbPath(homedir());
  try {
    const handle = await open(chatDb, 'r');
    await handle.close();
    return { severity: 'ok', message: 'Full Disk Access: this process can read ~/Library/Messages/chat.db.', fix: '' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { severity: 'info', message: 'No ~/Library/Messages/chat.db: Messages has not been used on this Mac.', fix: '' };
    return {
      severity: 'warn',
      message: `Cannot read ~/Library/Messages/chat.db (${code ?? 'error'}): Full Disk Access is not granted, so the iMessage channel cannot read messages.`,
      fix: `Open System Settings › Privacy & Security › Full Disk Access (open '${SETTINGS_URLS['full-disk-access']}') and turn it on for Pavise (and for your terminal when using the CLI).`,
    };
  }
}
