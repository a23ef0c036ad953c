import { CHANNEL_DISPLAY_NAMES } from '../../common/channels.js';
import { type TelegramConfig, TelegramConfigSchema } from '../../common/config-schema.js';
import { canonicalHandle } from '../../identity/handles.js';
import type { ChannelPlugin } from '../plugin.js';
import { TELEGRAM_TOKEN_SECRET, TelegramChannel } from './telegram-channel.js';

/** Telegram: the Bot API by long polling; owners are numeric user ids. */
export const telegramPlugin: ChannelPlugin<TelegramConfig> = {
  id: 'telegram',
  displayName: CHANNEL_DISPLAY_NAMES.telegram,
  configSchema: TelegramConfigSchema,
  create: ({ config, assistantNames, secret }) =>
    new TelegramChannel({
      // Read at the moment a request leaves; never held by the channel.
      token: () => secret(TELEGRAM_TOKEN_SECRET),
      ...(config.apiRoot ? { apiRoot: config.apiRoot } : {}),
      assistantNames,
    }),
  canonicalHandle: (handle, region) => canonicalHandle('telegram', handle, region),
  describeTarget: (target) => target,
};
