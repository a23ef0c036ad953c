/** Where an iMessage goes: an existing chat (its chat.db guid) or one person's phone number / Apple ID email. */
export type ImessageSendTarget = { readonly chatGuid: string } | { readonly handle: string };

export type SendMode = 'chat' | 'buddy';

export type CheckedTarget =
  | { readonly ok: true; readonly mode: SendMode; readonly value: string }
  | { readonly ok: false; readonly message: string };

const CHAT_GUID = /^(iMessage|SMS|RCS|any);[-+];[^\s;]+$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL_LOCAL = /^[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*$/;
const EMAIL_DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
/** Control, format (zero-width, bidi), surrogate, private-use and unassigned code points: never part of a real id. */
const INVISIBLE = /\p{C}/u;
/** 1:1 chats whose guid names an iMessage handle: sendable by handle when Messages does not know the chat id. */
const DIRECT_CHAT = /^(?:iMessage|any);-;(.+)$/;

export function isChatGuid(value: string): boolean {
  return CHAT_GUID.test(value) && !INVISIBLE.test(value) && value.length <= 512;
}

/** An E.164 phone number (`+15555550100`) or an email address, as Messages' handles are written. */
export function isHandle(value: string): boolean {
  if (E164.test(value)) return true;
  if (value.length > 254) return false;
  const at = value.lastIndexOf('@');
  if (at <= 0 || at !== value.indexOf('@')) return false;
  const local = value.slice(0, at);
  return local.length <= 64 && EMAIL_LOCAL.test(local) && EMAIL_DOMAIN.test(value.slice(at + 1));
}

/** The iMessage handle a 1:1 chat guid names (`iMessage;-;+1555…` → `+1555…`), if it names a valid one. */
export function directChatHandle(chatGuid: string): string | undefined {
  const handle = DIRECT_CHAT.exec(chatGuid)?.[1];
  return handle !== undefined && isHandle(handle) ? handle : undefined;
}

/** The last part of a chat guid: the handle of a 1:1 chat or the id of a group (`any;+;chat123` → `chat123`). */
export function chatGuidSubject(chatGuid: string): string {
  return chatGuid.split(';').at(-1) ?? chatGuid;
}

/** Decides how a target is addressed, or why it is refused. Anything not clearly one chat or one handle is refused. */
export function checkSendTarget(target: ImessageSendTarget): CheckedTarget {
  if (typeof target !== 'object' || target === null) return { ok: false, message: 'No iMessage target was given.' };
  const hasChat = Object.hasOwn(target, 'chatGuid');
  const hasHandle = Object.hasOwn(target, 'handle');
  if (hasChat && hasHandle) {
    return { ok: false, message: 'Ambiguous iMessage target: it names both a chat and a handle.' };
  }
  if (hasChat) {
    const value: unknown = (target as { chatGuid: unknown }).chatGuid;
    if (typeof value === 'string' && isChatGuid(value)) return { ok: true, mode: 'chat', value };
    return { ok: false, message: `Not a Messages chat id: ${quoteValue(value)}. Expected service;-;handle or service;+;chat…` };
  }
  if (hasHandle) {
    const value: unknown = (target as { handle: unknown }).handle;
    if (typeof value === 'string' && isHandle(value)) return { ok: true, mode: 'buddy', value };
    return {
      ok: false,
      message: `Not an iMessage handle: ${quoteValue(value)}. Use a phone number in international form (+15555550100) or an email address; names are ambiguous.`,
    };
  }
  return { ok: false, message: 'No iMessage target was given.' };
}

/** A value as an error message may show it: quoted, cut at 80 characters; a non-string is named by its type. */
export function quoteValue(value: unknown): string {
  if (typeof value !== 'string') return typeof value;
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
