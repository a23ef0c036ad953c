/** A message as a channel hands it to the gateway: data only, stored by main/storage and read by the gateway. */

import type { ChannelId } from './channels.js';

export interface Attachment {
  /** Local path when the channel has one (iMessage). Never opened automatically. */
  readonly path?: string;
  readonly mimeType?: string;
  readonly name?: string;
  /** Channel-side id (Telegram file_id). */
  readonly fileId?: string;
}

/**
 * `forwarded`: a message that is, or quotes, someone else's words (a Telegram forward, a reply quoting another chat).
 * Its text names the original sender; the gateway hands it to the model as untrusted, never as the owner's words.
 */
export type InboundKind = 'message' | 'forwarded' | 'edit' | 'reaction';

export interface InboundMessage {
  readonly channel: ChannelId;
  /** Unique within the channel: the chat.db message guid, or `${chatId}:${messageId}` on Telegram. */
  readonly externalId: string;
  /** The conversation replies go back to: a chat.db chat guid (`iMessage;-;+1555…`, `any;+;chat…`) or a Telegram chat id. */
  readonly conversationId: string;
  readonly isGroup: boolean;
  /** Who wrote it: a phone number / Apple ID email, or a Telegram user id. */
  readonly sender: string;
  readonly senderName?: string;
  readonly text: string;
  /** Milliseconds since the Unix epoch. */
  readonly sentAt: number;
  /** Written by the owner's own account (iMessage is_from_me). Never treated as a command by itself. */
  readonly isFromMe: boolean;
  readonly kind: InboundKind;
  readonly attachments: readonly Attachment[];
  /** In a group: the message addresses Pavise (mention, reply to it, or its name first). */
  readonly addressesAssistant: boolean;
}
