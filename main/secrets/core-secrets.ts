import { TELEGRAM_TOKEN_SECRET } from '../channels/telegram/telegram-channel.js';
import { PROVIDER_IDS } from '../common/providers.js';
import { ACTIVITY_KEY_NAME } from '../permissions/activity-log.js';
import { HOME_ASSISTANT_SECRET } from '../tools/home/home-assistant.js';
import { mailSecretName } from '../tools/mail/mail-service.js';

const CORE_SECRETS: readonly string[] = [...PROVIDER_IDS, TELEGRAM_TOKEN_SECRET, HOME_ASSISTANT_SECRET, ACTIVITY_KEY_NAME];

/**
 * Pavise's own keys: the model providers', the Telegram bot token, Home Assistant's token, the activity log's key and
 * every mail account's password. A skill may never be granted one (its broker would send it to the skill's host), and
 * a skill's row in settings must never replace or remove one.
 */
export function isCoreSecret(name: string): boolean {
  return CORE_SECRETS.includes(name) || name.startsWith(mailSecretName(''));
}
