/** Where an iMessage goes: an existing chat (its chat.db guid) or one person's phone number / Apple ID email. */
export type ImessageSendTarget = { readonly chatGuid: string } | { readonly handle: string };
