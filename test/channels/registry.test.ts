import { describe, expect, it } from 'vitest';
import { CHANNEL_PLUGINS, channelPlugin, createChannels } from '../../main/channels/registry.js';
import { CHANNEL_DISPLAY_NAMES, CHANNEL_IDS } from '../../main/common/channels.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';

describe('the channel registry', () => {
  it('agrees with the ids and display names main/common gives the renderer', () => {
    expect(CHANNEL_PLUGINS.map((plugin) => plugin.id)).toEqual(CHANNEL_IDS);
    expect(Object.fromEntries(CHANNEL_PLUGINS.map((plugin) => [plugin.id, plugin.displayName]))).toEqual(CHANNEL_DISPLAY_NAMES);
  });

  it('has one plugin per id, each disabled by an empty config section', () => {
    expect(new Set(CHANNEL_PLUGINS.map((plugin) => plugin.id)).size).toBe(CHANNEL_PLUGINS.length);
    for (const plugin of CHANNEL_PLUGINS) expect(plugin.configSchema.parse({})).toMatchObject({ enabled: false, owners: [] });
    const source = { config: { channels: { assistantNames: ['pavise'] } }, secrets: new MemorySecretStore() };
    expect(createChannels(source, {})).toEqual([]);
  });

  it('creates the enabled channels, in list order', () => {
    const source = {
      config: { channels: { assistantNames: ['pavise'], imessage: { enabled: true, chatDbPath: '/nonexistent/chat.db' }, telegram: { enabled: true } } },
      secrets: new MemorySecretStore(),
    };
    expect(createChannels(source, {}).map((channel) => channel.id)).toEqual(['imessage', 'telegram']);
  });

  it('canonicalises handles and describes targets per channel', () => {
    const imessage = channelPlugin('imessage');
    expect(imessage?.canonicalHandle(' +1 (555) 000-1111 ', 'US')).toBe('+15550001111');
    expect(imessage?.canonicalHandle('Me@iCloud.com')).toBe('me@icloud.com');
    expect(imessage?.describeTarget('iMessage;-;+15550001111')).toBe('+15550001111');
    expect(imessage?.describeTarget('any;+;chat123')).toBe('chat123');
    const telegram = channelPlugin('telegram');
    expect(telegram?.canonicalHandle(' 12345 ')).toBe('12345');
    expect(telegram?.describeTarget('-100123')).toBe('-100123');
  });
});
