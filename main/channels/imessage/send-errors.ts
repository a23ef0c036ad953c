import { SETTINGS_URLS } from '../../common/settings-urls.js';
import { SEND_SCRIPT_ERRORS } from './send-script.js';
import { type SendMode, quoteValue } from './target.js';

/** What a failed send tells the caller: whether a retry may help, and one sentence for the owner. */
export interface SendFailure {
  readonly retryable: boolean;
  readonly message: string;
}

const AUTOMATION_DENIED =
  'Pavise is not allowed to control Messages. Open System Settings → Privacy & Security → Automation and allow ' +
  `Pavise to control Messages (${SETTINGS_URLS.automation}), then try again.`;

/** Classifies osascript's report ("FILE:12:34: execution error: MESSAGE (NUMBER)"). */
export function describeScriptError(stderr: string, exitCode: number | null, mode: SendMode, value: string): SendFailure {
  const number = scriptErrorNumber(stderr);
  const detail = stderr.trim().slice(-300);
  if (number === -1743 || number === -1744 || /not (?:authori[sz]ed|permitted) to send apple events/i.test(stderr)) {
    return { retryable: false, message: AUTOMATION_DENIED };
  }
  if (stderr.includes(SEND_SCRIPT_ERRORS.ambiguousHandle)) {
    return {
      retryable: false,
      message: `The handle ${quoteValue(value)} matches more than one person in Messages, so Pavise did not guess; send to the chat instead.`,
    };
  }
  if (stderr.includes(SEND_SCRIPT_ERRORS.noImessageAccount)) {
    return { retryable: false, message: 'Messages has no iMessage account: sign in to iMessage in Messages → Settings → iMessage.' };
  }
  if (stderr.includes(SEND_SCRIPT_ERRORS.badArguments)) {
    return { retryable: false, message: `The send script refused its arguments: ${detail}` };
  }
  if (number === -1728) {
    return {
      retryable: false,
      message:
        mode === 'chat'
          ? `Messages has no chat with the id ${quoteValue(value)}.`
          : `Messages could not find ${quoteValue(value)} on iMessage.`,
    };
  }
  if (number === -600 || number === -609 || number === -1712 || number === -10810) {
    return { retryable: true, message: `Messages is not running or not responding (${number}).` };
  }
  return { retryable: true, message: `osascript failed (exit ${exitCode ?? 'signal'}): ${detail || 'no message'}` };
}

/** The AppleScript error number at the end of osascript's report, if there is one. */
export function scriptErrorNumber(stderr: string): number | undefined {
  const match = /\((-?\d+)\)\s*$/.exec(stderr.trim());
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
