/** System Settings panes Pavise sends the owner to: the only URLs the app ever hands to `shell.openExternal`. */
export const SETTINGS_URLS = {
  /** Privacy & Security → Full Disk Access: needed to read ~/Library/Messages/chat.db. */
  'full-disk-access': 'x-apple.systempreferences:com.apple.preference.security?Privacy_AllFiles',
  /** Privacy & Security → Automation: needed to send iMessages through Messages. */
  automation: 'x-apple.systempreferences:com.apple.preference.security?Privacy_Automation',
  notifications: 'x-apple.systempreferences:com.apple.preference.notifications',
  /** Privacy & Security → Calendars: needed to read and change events (full access, macOS 14 and later). */
  calendars: 'x-apple.systempreferences:com.apple.preference.security?Privacy_Calendars',
  /** Privacy & Security → Contacts: needed to find people and their handles in the address book. */
  contacts: 'x-apple.systempreferences:com.apple.preference.security?Privacy_Contacts',
} as const;
