import type { Chat, Message, MessageEntity, MessageOrigin, MessageReactionUpdated, Update, User } from 'grammy/types';
import type { Attachment, InboundMessage } from '../channel.js';

/** The identity of the bot from getMe: what group messages are checked against. */
export interface BotIdentity {
  readonly id: number;
  readonly username?: string | undefined;
}

const CHAT_TYPES = new Set<Chat['type']>(['private', 'group', 'supergroup']);

/**
 * Maps one update to the message the gateway stores, or undefined for updates that are not messages (callback
 * queries, channel posts, membership changes …). Attachments are listed by file_id, never downloaded.
 */
export function toInboundMessage(update: Update, me: BotIdentity, assistantNames: readonly string[]): InboundMessage | undefined {
  if (update.message) return fromMessage(update.message, 'message', update.update_id, me, assistantNames);
  if (update.edited_message) return fromMessage(update.edited_message, 'edit', update.update_id, me, assistantNames);
  if (update.message_reaction) return fromReaction(update.message_reaction, update.update_id);
  return undefined;
}

function fromMessage(
  message: Message,
  kind: 'message' | 'edit',
  updateId: number,
  me: BotIdentity,
  assistantNames: readonly string[],
): InboundMessage | undefined {
  const chat = message.chat;
  if (!CHAT_TYPES.has(chat.type)) return undefined;
  const isGroup = chat.type !== 'private';
  const written = message.text ?? message.caption ?? '';
  const entities = message.entities ?? message.caption_entities ?? [];
  const sender = senderOf(message.from, message.sender_chat);
  const base = `${chat.id}:${message.message_id}`;
  const carried = carriedContent(message, written, me);
  return {
    channel: 'telegram',
    // An edit is a new event about the same message; its own id keeps it from being taken for a redelivery.
    externalId: kind === 'edit' ? `${base}:edit:${updateId}` : base,
    conversationId: String(chat.id),
    isGroup,
    sender: sender.id,
    ...(sender.name ? { senderName: sender.name } : {}),
    text: carried?.text ?? written,
    sentAt: (kind === 'edit' ? (message.edit_date ?? message.date) : message.date) * 1_000,
    isFromMe: message.from?.id === me.id,
    kind: kind === 'message' && carried ? 'forwarded' : kind,
    attachments: attachmentsOf(message),
    addressesAssistant: !isGroup || addressesAssistant(message, written, entities, me, assistantNames),
  };
}

/**
 * Someone else's words inside this message: a forward (the whole text is theirs) or a quote of another person's
 * message (the sender's words come first, the quote after). The text says whose words they are; the kind
 * `forwarded` makes the gateway treat all of it as untrusted. Undefined when the message carries no one else's text.
 */
function carriedContent(message: Message, written: string, me: BotIdentity): { text: string } | undefined {
  if (message.forward_origin) return { text: `[Forwarded from ${originLabel(message.forward_origin)}]\n${written}` };
  const quote = message.quote?.text;
  if (quote === undefined) return undefined;
  const origin = message.external_reply?.origin;
  const author = message.reply_to_message?.from;
  let label: string;
  if (origin) label = originLabel(origin);
  else if (author && author.id !== me.id && author.id !== message.from?.id) label = userLabel(author);
  else if (message.reply_to_message?.forward_origin) label = originLabel(message.reply_to_message.forward_origin);
  else return undefined;
  return { text: `${written}\n\n[Quoting ${label}]\n${quote}` };
}

/** Who first wrote forwarded text, in plain words; a name is only what that account calls itself. */
export function originLabel(origin: MessageOrigin): string {
  switch (origin.type) {
    case 'user':
      return userLabel(origin.sender_user);
    case 'hidden_user':
      return `a hidden user calling themselves “${origin.sender_user_name}”`;
    case 'chat':
      return `a message in the group “${origin.sender_chat.title ?? origin.sender_chat.id}”`;
    case 'channel':
      return `a channel post from ${'username' in origin.chat && origin.chat.username ? `@${origin.chat.username}` : `“${origin.chat.title}”`}`;
  }
}

function userLabel(user: User): string {
  const name = [user.first_name, user.last_name].filter(Boolean).join(' ');
  return `${name ? `someone calling themselves “${name}”` : 'someone'} (Telegram user ${user.id}${user.username ? `, @${user.username}` : ''})`;
}

function fromReaction(reaction: MessageReactionUpdated, updateId: number): InboundMessage | undefined {
  const chat = reaction.chat;
  if (!CHAT_TYPES.has(chat.type)) return undefined;
  const sender = senderOf(reaction.user, reaction.actor_chat);
  const text = reaction.new_reaction
    .map((type) => (type.type === 'emoji' ? type.emoji : type.type === 'paid' ? '⭐' : '(custom emoji)'))
    .join(' ');
  return {
    channel: 'telegram',
    externalId: `${chat.id}:${reaction.message_id}:reaction:${updateId}`,
    conversationId: String(chat.id),
    isGroup: chat.type !== 'private',
    sender: sender.id,
    ...(sender.name ? { senderName: sender.name } : {}),
    text,
    sentAt: reaction.date * 1_000,
    isFromMe: false,
    kind: 'reaction',
    attachments: [],
    addressesAssistant: chat.type === 'private',
  };
}

function senderOf(user: User | undefined, chat: Chat | undefined): { id: string; name: string | undefined } {
  if (user) {
    const name = [user.first_name, user.last_name].filter(Boolean).join(' ') || user.username;
    return { id: String(user.id), name };
  }
  if (chat) return { id: String(chat.id), name: chat.title ?? chat.username ?? chat.first_name };
  return { id: 'unknown', name: undefined };
}

function attachmentsOf(message: Message): Attachment[] {
  const out: Attachment[] = [];
  const add = (fileId: string, mimeType: string | undefined, name: string | undefined): void => {
    out.push({ fileId, ...(mimeType ? { mimeType } : {}), ...(name ? { name } : {}) });
  };
  const largest = message.photo?.reduce((best, size) => ((size.width * size.height > best.width * best.height) ? size : best));
  if (largest) add(largest.file_id, 'image/jpeg', undefined);
  if (message.document) add(message.document.file_id, message.document.mime_type, message.document.file_name);
  if (message.voice) add(message.voice.file_id, message.voice.mime_type ?? 'audio/ogg', undefined);
  if (message.audio) add(message.audio.file_id, message.audio.mime_type, message.audio.file_name);
  if (message.video) add(message.video.file_id, message.video.mime_type, message.video.file_name);
  if (message.video_note) add(message.video_note.file_id, 'video/mp4', undefined);
  if (message.animation && !message.document) add(message.animation.file_id, message.animation.mime_type, message.animation.file_name);
  if (message.sticker) {
    const sticker = message.sticker;
    add(sticker.file_id, sticker.is_animated ? 'application/x-tgsticker' : sticker.is_video ? 'video/webm' : 'image/webp', undefined);
  }
  return out;
}

/**
 * In a group the assistant is addressed by an @mention of the bot (or a text mention of it), a reply to one of its
 * messages, a command meant for it (`/cmd` or `/cmd@this_bot`), or text that starts with one of its names.
 */
export function addressesAssistant(
  message: Message,
  text: string,
  entities: readonly MessageEntity[],
  me: BotIdentity,
  assistantNames: readonly string[],
): boolean {
  const username = me.username?.toLowerCase();
  for (const entity of entities) {
    const part = text.slice(entity.offset, entity.offset + entity.length).toLowerCase();
    if (entity.type === 'mention' && username !== undefined && part === `@${username}`) return true;
    if (entity.type === 'text_mention' && entity.user.id === me.id) return true;
    if (entity.type === 'bot_command') {
      const target = part.split('@')[1];
      if (target === undefined || target === username) return true;
    }
  }
  if (message.reply_to_message?.from?.id === me.id) return true;
  const opening = text.trimStart().toLowerCase();
  return assistantNames.some((name) => {
    const wanted = name.toLowerCase();
    return opening.startsWith(wanted) && !/[\p{L}\p{N}_]/u.test(opening.charAt(wanted.length));
  });
}
