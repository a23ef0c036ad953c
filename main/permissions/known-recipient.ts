/** One stored message of a group conversation, as far as deciding whether the group is known needs it. */
export interface GroupMessage {
  /** Written from this Mac's account: the owner, or Pavise sending as the owner (iMessage). */
  readonly isFromMe: boolean;
  readonly sender: string;
}

/**
 * Whether a group is a known recipient: only when the owner spoke in it or Pavise created it. Anyone can create a
 * group and add the owner or the bot to it, so being in a group says nothing about who else is there; a group that
 * only others have written in is a new recipient, and a send to it asks.
 *
 * On iMessage a message from this Mac's account is the owner's or Pavise's own (and Pavise can only have written
 * first in a group it started); on Telegram the bot cannot create groups, so the owner must have spoken there.
 */
export function isKnownGroup(messages: readonly GroupMessage[], isOwner: (sender: string) => boolean): boolean {
  return messages.some((message) => message.isFromMe || isOwner(message.sender));
}
