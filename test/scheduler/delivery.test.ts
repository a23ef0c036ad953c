import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../main/config/config.js';
import { ownerTargets } from '../../main/scheduler/delivery.js';
import { ChannelStore } from '../../main/storage/channel-store.js';
import { openDatabase } from '../../main/storage/database.js';

const OWNER = '+15550001111';

function store() {
  const channels = new ChannelStore(openDatabase(':memory:'));
  channels.touchConversation('imessage', 'any;+;chat-family', true, 'Family');
  channels.touchConversation('imessage', 'iMessage;-;+15550009999', false, 'Mallory');
  channels.touchConversation('telegram', '777', false, 'Someone');
  channels.touchConversation('imessage', `iMessage;-;${OWNER}`, false, undefined);
  return channels;
}

describe('where a scheduled message may go', () => {
  it('only to the owner’s own private chats: never a group, a stranger or a contact', () => {
    const config = parseConfig(JSON.stringify({ channels: { imessage: { enabled: true, owners: [OWNER] }, telegram: { enabled: true, owners: [4242] } } }));
    const targets = ownerTargets(config, store(), undefined);
    expect(targets).toEqual([
      { channel: 'imessage', conversationId: `iMessage;-;${OWNER}` },
      { channel: 'telegram', conversationId: '4242' },
    ]);
    // A job that claims to have been asked in a group or a stranger's chat still goes only to the owner.
    expect(ownerTargets(config, store(), { channel: 'imessage', conversationId: 'any;+;chat-family' }).map((target) => target.conversationId)).not.toContain('any;+;chat-family');
    expect(ownerTargets(config, store(), { channel: 'telegram', conversationId: '777' }).map((target) => target.conversationId)).not.toContain('777');
  });

  it('puts the chat it was asked in first, or the configured channel, and skips a disabled channel', () => {
    const both = { imessage: { enabled: true, owners: [OWNER] }, telegram: { enabled: true, owners: [4242] } };
    const asked = { channel: 'telegram' as const, conversationId: '4242' };
    expect(ownerTargets(parseConfig(JSON.stringify({ channels: both })), store(), asked)[0]).toEqual(asked);
    const preferIm = parseConfig(JSON.stringify({ channels: both, schedule: { deliverTo: 'imessage' } }));
    expect(ownerTargets(preferIm, store(), asked)[0]?.channel).toBe('imessage');
    const telegramOff = parseConfig(JSON.stringify({ channels: { ...both, telegram: { enabled: false, owners: [4242] } } }));
    expect(ownerTargets(telegramOff, store(), asked).map((target) => target.channel)).toEqual(['imessage']);
  });
});
