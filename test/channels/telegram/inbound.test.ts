import type { Update } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { toInboundMessage, type BotIdentity } from '../../../main/channels/telegram/inbound.js';
import { botApiSamples } from '../../fakes/fake-bot-api.js';

/**
 * Updates to inbound messages, and when a group message addresses the assistant. Bot identity and payload shapes
 * from test/fixtures/telegram/bot_api_samples.json (see test/fixtures/SOURCES.md).
 */

const bot = botApiSamples.constructed.getMe_response.result;
const me: BotIdentity = { id: bot.id, username: bot.username };
const NAMES = ['pavise', 'Shelly Bot'];

const group = { id: -4000000001, title: 'Family', type: 'group' as const };
const bob = { id: 5550101, is_bot: false, first_name: 'Bob' };

function groupUpdate(fields: Record<string, unknown>): Update {
  return { update_id: 1, message: { message_id: 50, from: bob, chat: group, date: 1735689840, ...fields } } as unknown as Update;
}

const addresses = (fields: Record<string, unknown>): boolean | undefined => toInboundMessage(groupUpdate(fields), me, NAMES)?.addressesAssistant;

describe('group addressing', () => {
  it('an @mention of the bot, in any letter case', () => {
    expect(addresses({ text: '@example_assistant_bot hi', entities: [{ type: 'mention', offset: 0, length: 22 }] })).toBe(true);
    expect(addresses({ text: 'hi @Example_Assistant_Bot', entities: [{ type: 'mention', offset: 3, length: 22 }] })).toBe(true);
  });

  it('not a mention of someone else, nor the username without a mention entity', () => {
    expect(addresses({ text: '@other_bot do it', entities: [{ type: 'mention', offset: 0, length: 10 }] })).toBe(false);
    expect(addresses({ text: 'example_assistant_bot is neat' })).toBe(false);
  });

  it('a mention counted in UTF-16 offsets after an emoji', () => {
    const text = '😀 @example_assistant_bot';
    expect(addresses({ text, entities: [{ type: 'mention', offset: 3, length: 22 }] })).toBe(true);
  });

  it('a text_mention of the bot user', () => {
    expect(addresses({ text: 'Assistant, help', entities: [{ type: 'text_mention', offset: 0, length: 9, user: bot }] })).toBe(true);
  });

  it('a reply to one of the bot\'s messages, not to someone else\'s', () => {
    const replyTo = (from: unknown) => ({ message_id: 9, from, chat: group, date: 1735689500, text: 'earlier' });
    expect(addresses({ text: 'yes please', reply_to_message: replyTo(bot) })).toBe(true);
    expect(addresses({ text: 'yes please', reply_to_message: replyTo(bob) })).toBe(false);
  });

  it('a command for the bot, not one addressed to another bot', () => {
    expect(addresses({ text: '/help', entities: [{ type: 'bot_command', offset: 0, length: 5 }] })).toBe(true);
    expect(addresses({ text: '/help@example_assistant_bot', entities: [{ type: 'bot_command', offset: 0, length: 27 }] })).toBe(true);
    expect(addresses({ text: '/help@other_bot', entities: [{ type: 'bot_command', offset: 0, length: 15 }] })).toBe(false);
  });

  it('text that starts with an assistant name, as a whole word', () => {
    expect(addresses({ text: "Pavise, what's for dinner?" })).toBe(true);
    expect(addresses({ text: '  pavise what time is it' })).toBe(true);
    expect(addresses({ text: 'shelly bot: hi' })).toBe(true);
    expect(addresses({ text: 'pavise' })).toBe(true);
    expect(addresses({ text: 'pavises are shells' })).toBe(false);
    expect(addresses({ text: 'ask pavise later' })).toBe(false);
  });

  it('a photo caption that mentions the bot', () => {
    const message = toInboundMessage(
      groupUpdate({
        photo: [{ file_id: 'small', file_unique_id: 's', width: 90, height: 90 }, { file_id: 'big', file_unique_id: 'b', width: 900, height: 900 }],
        caption: '@example_assistant_bot what is this?',
        caption_entities: [{ type: 'mention', offset: 0, length: 22 }],
      }),
      me,
      NAMES,
    );
    expect(message).toMatchObject({ addressesAssistant: true, text: '@example_assistant_bot what is this?', attachments: [{ fileId: 'big', mimeType: 'image/jpeg' }] });
  });

  it('supergroups follow the same rules; private chats are always addressed', () => {
    const fixture = botApiSamples.constructed.getUpdates_response.result.find((u) => u.update_id === 900000007) as unknown as Update;
    expect(toInboundMessage(fixture, me, NAMES)).toMatchObject({ isGroup: true, addressesAssistant: false });
    const privateUpdate = botApiSamples.grammy_test_fixtures.update as unknown as Update;
    expect(toInboundMessage(privateUpdate, me, NAMES)).toMatchObject({ isGroup: false, addressesAssistant: true, text: 'test', sender: '1' });
  });
});

describe('toInboundMessage', () => {
  it('lists documents and voice notes by file_id, never fetching them', () => {
    const doc = toInboundMessage(
      groupUpdate({ document: { file_id: 'doc-1', file_unique_id: 'd', file_name: 'invoice.pdf', mime_type: 'application/pdf' }, caption: 'pavise, file this' }),
      me,
      NAMES,
    );
    expect(doc).toMatchObject({ text: 'pavise, file this', addressesAssistant: true, attachments: [{ fileId: 'doc-1', mimeType: 'application/pdf', name: 'invoice.pdf' }] });
    const voice = toInboundMessage(groupUpdate({ voice: { file_id: 'voice-1', file_unique_id: 'v', duration: 3 } }), me, NAMES);
    expect(voice).toMatchObject({ text: '', attachments: [{ fileId: 'voice-1', mimeType: 'audio/ogg' }] });
  });

  it('names an anonymous group admin by the chat it posts as', () => {
    const message = toInboundMessage(groupUpdate({ from: undefined, sender_chat: { id: -4000000001, title: 'Family', type: 'group' }, text: 'hi' }), me, NAMES);
    expect(message).toMatchObject({ sender: '-4000000001', senderName: 'Family' });
  });

  it('skips updates that are not messages: callback queries, channel posts, membership changes', () => {
    const callback = botApiSamples.constructed.getUpdates_response.result.find((u) => u.update_id === 900000009) as unknown as Update;
    expect(toInboundMessage(callback, me, NAMES)).toBeUndefined();
    const channelPost = { update_id: 2, channel_post: { message_id: 1, date: 1, chat: { id: -100, type: 'channel', title: 'News' }, text: 'x' } } as unknown as Update;
    expect(toInboundMessage(channelPost, me, NAMES)).toBeUndefined();
    const inChannel = { update_id: 3, message: { message_id: 1, date: 1, chat: { id: -100, type: 'channel', title: 'News' }, text: 'x' } } as unknown as Update;
    expect(toInboundMessage(inChannel, me, NAMES)).toBeUndefined();
  });
});
