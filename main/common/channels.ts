/**
 * The channels Pavise ships, by id, with the name the owner sees. The renderer and the IPC contract read this list;
 * main/channels/registry.ts holds the plugins themselves, and test/channels/registry.test.ts checks the two agree.
 */
export const CHANNEL_DISPLAY_NAMES = {
  imessage: 'iMessage',
  telegram: 'Telegram',
} as const;

export type ChannelId = keyof typeof CHANNEL_DISPLAY_NAMES;

export const CHANNEL_IDS = Object.keys(CHANNEL_DISPLAY_NAMES) as readonly ChannelId[];
