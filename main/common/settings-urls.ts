/** System Settings panes Pavise sends the owner to: the only URLs the app ever hands to `shell.openExternal`. */
export const SETTINGS_URLS = {
  /** Privacy & Security → Full Disk Access: needed to read ~/Library/Messages/chat.db. */
  'full-disk-access': 'x-apple.systempreferences:com.apple.preference.security?Privacy_AllFiles',
  /** Privacy & Security → Automation: needed to send iMessages through Messages. */
  automation: 'x-apple.systempreferences:com.apple.preference.security?Privacy_Automation',
  notifications: 'x-apple.systempreferences:com.apple.preference.notifications',
} as const;
