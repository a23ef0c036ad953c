import type { Channel, ChannelId } from './channel.js';
import { imessagePlugin } from './imessage/plugin.js';
import type { ChannelPlugin, ChannelSection } from './plugin.js';
import { telegramPlugin } from './telegram/plugin.js';

/** Every channel Pavise ships: the one list a new channel is added to (never by a side-effect import). */
export const CHANNEL_PLUGINS: readonly ChannelPlugin[] = [imessagePlugin, telegramPlugin];

/** What creating the channels needs: config.json's `channels` (each plugin's section by id) and the Keychain. */
export interface ChannelsSource {
  readonly config: { readonly channels: { readonly assistantNames: readonly string[] } };
  readonly secrets: { get(name: string): Promise<string | undefined> };
}

/**
 * The enabled channels, one per plugin whose section says `enabled`. `plugins` is the injection point for tests;
 * everything else uses CHANNEL_PLUGINS.
 */
export function createChannels(source: ChannelsSource, env: NodeJS.ProcessEnv, plugins: readonly ChannelPlugin[] = CHANNEL_PLUGINS): Channel[] {
  const sections = source.config.channels as unknown as Readonly<Record<string, unknown>>;
  const channels: Channel[] = [];
  for (const plugin of plugins) {
    const parsed = plugin.configSchema.safeParse(sections[plugin.id] ?? {});
    if (!parsed.success) {
      throw new Error(`channels.${plugin.id} in config.json is invalid: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(section)'} ${issue.message}`).join('; ')}. Fix it, then start again.`);
    }
    const config: ChannelSection = parsed.data;
    if (!config.enabled) continue;
    channels.push(
      plugin.create({
        config,
        assistantNames: source.config.channels.assistantNames,
        env,
        secret: (name) => source.secrets.get(name),
      }),
    );
  }
  return channels;
}

/** The plugin of a channel id, from the given list. */
export function channelPlugin(id: ChannelId, plugins: readonly ChannelPlugin[] = CHANNEL_PLUGINS): ChannelPlugin | undefined {
  return plugins.find((plugin) => plugin.id === id);
}
