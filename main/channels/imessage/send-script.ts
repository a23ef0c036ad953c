/**
 * The one AppleScript Pavise runs to send an iMessage (invariant 7: nothing is ever spliced into it). It is fixed
 * text, written to a private file once and run as `osascript -l AppleScript FILE MODE TARGET TEXT`; every value
 * reaches it as an item of `argv`, a list of strings that AppleScript never compiles.
 *
 * argv:
 *   1. mode   "chat"  - TARGET is a Messages chat id, which is the chat.db guid (`iMessage;-;+15555550100`,
 *                       `any;+;chat123...`); the message goes to that chat, over whichever service it uses.
 *             "buddy" - TARGET is a phone number or an Apple ID email; the message goes over iMessage.
 *   2. target
 *   3. text   one chunk, never empty.
 *
 * Messages' dictionary on macOS 11 and later calls the iMessage login an `account` and a person a `participant`;
 * the older `service` and `buddy` still compile and are tried when the new terms fail. Errors the script raises
 * itself start with `pavise:` and carry a number from 1001, so the caller can tell them from Messages' own
 * errors (for example -1743, Automation permission denied; -1728, no such chat).
 *
 * Changing this text changes SEND_SCRIPT_SHA256, which is pinned: a test fails until the new hash is written here,
 * so an edit to what runs with Automation permission over Messages is always deliberate.
 */
export const SEND_SCRIPT = `-- Pavise: send one message with Messages. Fixed text: every value arrives in argv.
on run argv
  if (count of argv) is not 3 then error "pavise:bad-arguments expected mode, target and text" number 1003
  set theMode to item 1 of argv
  set theTarget to item 2 of argv
  set theText to item 3 of argv
  if theTarget is "" or theText is "" then error "pavise:bad-arguments empty target or text" number 1003
  tell application "Messages"
    if theMode is "chat" then
      send theText to chat id theTarget
    else if theMode is "buddy" then
      set haveAccount to false
      try
        set iMessageAccount to 1st account whose service type = iMessage
        set haveAccount to true
      on error
        try
          set iMessageAccount to 1st service whose service type = iMessage
          set haveAccount to true
        end try
      end try
      if not haveAccount then error "pavise:no-imessage-account Messages has no iMessage account" number 1002
      set matchCount to 0
      try
        set matchCount to count of (every participant of iMessageAccount whose handle is theTarget)
      end try
      if matchCount > 1 then error "pavise:ambiguous-handle the handle matches more than one participant" number 1001
      if matchCount = 1 then
        set theParticipant to 1st participant of iMessageAccount whose handle is theTarget
      else
        try
          set theParticipant to participant theTarget of iMessageAccount
        on error
          set theParticipant to buddy theTarget of iMessageAccount
        end try
      end if
      send theText to theParticipant
    else
      error "pavise:bad-arguments unknown mode" number 1003
    end if
  end tell
  return "ok"
end run
`;

/** SHA-256 (hex) of SEND_SCRIPT, pinned; test/channels/imessage/sender.test.ts recomputes it. */
export const SEND_SCRIPT_SHA256 = '3d472673f7f70bcddb18583389aedcf5423c7d77b651f18f6e4f04a0db3da672';

/** The markers of the script's own errors (see the header). */
export const SEND_SCRIPT_ERRORS = {
  ambiguousHandle: 'pavise:ambiguous-handle',
  noImessageAccount: 'pavise:no-imessage-account',
  badArguments: 'pavise:bad-arguments',
} as const;
