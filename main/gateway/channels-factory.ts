import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Channel } from '../channels/channel.js';
import { ImessageChannel } from '../channels/imessage/imessage-channel.js';
import { AppleScriptSender } from '../channels/imessage/sender.js';
import { TELEGRAM_TOKEN_SECRET, TelegramChannel } from '../channels/telegram/telegram-channel.js';
import type { Config } from '../common/config-schema.js';
import type { SecretStore } from '../secrets/secret-store.js';

/** What creating the channels needs from the core: the channels' config and the Keychain (the bot token). */
type Services = { readonly config: Config; readonly secrets: Pick<SecretStore, 'get'> };

export { TELEGRAM_TOKEN_SECRET };

export function defaultChatDbPath(): string {
  return join(homedir(), 'Library', 'Messages', 'chat.db');
}

/** The enabled channels, registered explicitly (never by a side-effect import). */
export function createChannels(services: Services, env: NodeJS.ProcessEnv): Channel[] {
  const config = services.config.channels;
  const channels: Channel[] = [];
  if (config.imessage.enabled) {
    channels.push(
      new ImessageChannel({
        chatDbPath: config.imessage.chatDbPath ?? defaultChatDbPath(),
        owners: config.imessage.owners,
        assistantNames: config.assistantNames,
        sender: new AppleScriptSender({ env }),
      }),
    );
  }
  if (config.telegram.enabled) {
    channels.push(
      new TelegramChannel({
        // Read at the moment a request leaves; never held by the channel.
        token: () => services.secrets.get(TELEGRAM_TOKEN_SECRET),
        ...(config.telegram.apiRoot ? { apiRoot: config.telegram.apiRoot } : {}),
        assistantNames: config.assistantNames,
      }),
    );
  }
  return channels;
}
