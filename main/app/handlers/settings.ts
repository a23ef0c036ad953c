import { writeFileSync } from 'node:fs';
import type { SettingsView } from '../../common/ipc.js';
import type { ConfigStore } from '../../config/config-store.js';
import { TELEGRAM_TOKEN_SECRET } from '../../channels/telegram/telegram-channel.js';
import type { PairingCodes } from '../../identity/pairing.js';
import type { ActivityLog } from '../../permissions/activity-log.js';
import type { SecretBroker } from '../../permissions/secret-broker.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { buildSettings, type PlatformHooks, type SettingsDeps } from '../snapshot.js';
import type { Handlers } from './handler.js';
import { handsView } from './hands.js';

const SECRET_LABELS: Readonly<Record<string, string>> = {
  anthropic: 'Anthropic API key',
  openai: 'OpenAI API key',
  'openai-compatible': 'API key for the OpenAI-compatible server',
  [TELEGRAM_TOKEN_SECRET]: 'Telegram bot token',
};

export interface SettingsHandlerDeps extends SettingsDeps {
  readonly configStore: Pick<ConfigStore, 'read' | 'update'>;
  readonly secrets: Pick<SecretStore, 'set' | 'delete' | 'list'>;
  readonly broker: Pick<SecretBroker, 'remember'>;
  readonly activity: Pick<ActivityLog, 'append'>;
  readonly pairing: Pick<PairingCodes, 'create'>;
}

type SettingsChannels = 'settings.get' | 'settings.update' | 'secrets.set' | 'secrets.remove' | 'persona.save' | 'pairing.create';

/** The settings window: config.json, the Keychain (values in, never out), SOUL.md and Telegram pairing codes. */
export function settingsHandlers(deps: SettingsHandlerDeps, platform: PlatformHooks): Handlers<SettingsChannels> {
  const savedConfig = () => {
    try {
      return deps.configStore.read();
    } catch {
      return deps.config;
    }
  };
  const withSecrets = async (): Promise<SettingsView> => {
    const view = buildSettings(deps, platform);
    let stored: string[] = [];
    try {
      stored = await deps.secrets.list();
    } catch {
      // The Keychain is unavailable: every secret shows as not stored, and the pane says so.
    }
    const names = [deps.config.model.provider, TELEGRAM_TOKEN_SECRET];
    return {
      ...view,
      secrets: names.map((name) => ({ name, label: SECRET_LABELS[name] ?? name, stored: stored.includes(name) })),
      channels: { ...view.channels, telegram: { ...view.channels.telegram, tokenStored: stored.includes(TELEGRAM_TOKEN_SECRET) } },
      hands: handsView(savedConfig(), stored),
    };
  };
  return {
    'settings.get': () => withSecrets(),
    'settings.update': async (patch) => {
      const { openAtLogin, ...fields } = patch;
      deps.configStore.update(fields);
      if (openAtLogin !== undefined) platform.setOpenAtLogin?.(openAtLogin);
      deps.activity.append({ kind: 'system', summary: 'Changed settings', actor: 'owner:settings', detail: { fields: Object.keys(patch) } });
      return withSecrets();
    },
    'secrets.set': async ({ name, value }) => {
      await deps.secrets.set(name, value);
      deps.broker.remember(name, value);
      deps.activity.append({ kind: 'system', summary: `Stored the secret "${name}" in the Keychain`, actor: 'owner:settings' });
      return { stored: true as const };
    },
    'secrets.remove': async ({ name }) => {
      const removed = await deps.secrets.delete(name);
      if (removed) deps.activity.append({ kind: 'system', summary: `Removed the secret "${name}"`, actor: 'owner:settings' });
      return { removed };
    },
    'persona.save': ({ text }) => {
      writeFileSync(deps.paths.soul, text, { mode: 0o600 });
      return { saved: true as const };
    },
    'pairing.create': () => {
      const created = deps.pairing.create('telegram');
      deps.activity.append({ kind: 'system', summary: 'Created a Telegram pairing code', actor: 'owner:settings' });
      return created;
    },
  };
}
