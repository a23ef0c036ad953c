import { type ImessageConfig, ImessageConfigSchema } from '../../common/config-schema.js';
import { CHANNEL_DISPLAY_NAMES } from '../../common/channels.js';
import { defaultChatDbPath } from '../../config/paths.js';
import { canonicalHandle } from '../../identity/handles.js';
import type { ChannelPlugin } from '../plugin.js';
import { ImessageChannel } from './imessage-channel.js';
import { AppleScriptSender } from './sender.js';
import { chatGuidSubject } from './target.js';

/** iMessage: chat.db read from disk, replies sent through Messages with a fixed AppleScript. */
export const imessagePlugin: ChannelPlugin<ImessageConfig> = {
  id: 'imessage',
  displayName: CHANNEL_DISPLAY_NAMES.imessage,
  configSchema: ImessageConfigSchema,
  create: ({ config, assistantNames, env }) =>
    new ImessageChannel({
      chatDbPath: config.chatDbPath ?? defaultChatDbPath(),
      owners: config.owners,
      assistantNames,
      sender: new AppleScriptSender({ env }),
    }),
  canonicalHandle: (handle, region) => canonicalHandle('imessage', handle, region),
  describeTarget: chatGuidSubject,
};
