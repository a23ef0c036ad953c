import { createHash } from 'node:crypto';
import type { SendResult } from '../channel.js';
import { type RunProcessError, runProcess } from '../../platform/run-process.js';
import { type SendFailure, describeScriptError, scriptErrorNumber } from './send-errors.js';
import { SEND_SCRIPT, SEND_SCRIPT_SHA256 } from './send-script.js';
import { DEFAULT_MAX_CHUNK_LENGTH, prepareMessageText, splitMessage } from './split-message.js';
import { type ImessageSendTarget, type SendMode, checkSendTarget, directChatHandle } from './target.js';

/**
 * Sends iMessages by running the fixed SEND_SCRIPT with osascript through run-process (invariant 7): the script's
 * text is checked against its pinned hash before every run and written into a private folder that is removed when
 * osascript ends; the mode, target and text travel as argv, and no shell is involved. The exact command line for
 * one chunk is
 *
 *   osascript -l AppleScript <scriptFile> <"chat"|"buddy"> <chat guid | handle> <chunk>
 *
 * The script file's path is absolute, so osascript stops reading options there and every later item, even one that
 * starts with "-", is an item of the script's argv.
 */

export const DEFAULT_OSASCRIPT_PATH = '/usr/bin/osascript';
export const DEFAULT_MAX_CHUNKS = 20;
export const DEFAULT_SEND_TIMEOUT_MS = 30_000;

const SCRIPT_FILE_NAME = 'send-imessage.applescript';
const OUTPUT_LIMIT = 64 * 1024;

export interface AppleScriptSenderOptions {
  /** The osascript executable. Default: `env.PAVISE_OSASCRIPT` when set (tests point it at a recorder), else /usr/bin/osascript. */
  readonly osascriptPath?: string;
  /** The child's environment. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** How long one chunk may take before osascript is killed and the send reported as retryable. */
  readonly timeoutMs?: number;
  /** Longest chunk, in UTF-16 code units. */
  readonly maxChunkLength?: number;
  /** A text that needs more chunks than this is refused before anything is sent (nothing runs away, invariant 6). */
  readonly maxChunks?: number;
  /** Where the private (0700) folder holding the script file of one run is created. Default: os.tmpdir(). */
  readonly scriptParentDir?: string;
}

type RunOutcome = { readonly ok: true } | RunProcessError | { readonly ok: false; readonly code: 'integrity'; readonly message: string };

export class AppleScriptSender {
  readonly #osascriptPath: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #timeoutMs: number;
  readonly #maxChunkLength: number;
  readonly #maxChunks: number;
  readonly #scriptParentDir: string | undefined;

  constructor(options: AppleScriptSenderOptions = {}) {
    this.#env = options.env ?? process.env;
    this.#osascriptPath = options.osascriptPath ?? (this.#env.PAVISE_OSASCRIPT || DEFAULT_OSASCRIPT_PATH);
    this.#timeoutMs = positiveInteger(options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS, 'timeoutMs');
    this.#maxChunkLength = positiveInteger(options.maxChunkLength ?? DEFAULT_MAX_CHUNK_LENGTH, 'maxChunkLength');
    this.#maxChunks = positiveInteger(options.maxChunks ?? DEFAULT_MAX_CHUNKS, 'maxChunks');
    this.#scriptParentDir = options.scriptParentDir;
    if (this.#maxChunkLength < 2) throw new RangeError('maxChunkLength must be at least 2');
  }

  /**
   * Sends text to one chat or handle, in chunks, in order. Never rejects. A failure before anything was sent keeps
   * its own retryable flag; once a chunk has gone out the failure is not retryable, so a retry cannot repeat it.
   */
  async send(target: ImessageSendTarget, text: string, signal: AbortSignal): Promise<SendResult> {
    const checked = checkSendTarget(target);
    if (!checked.ok) return { ok: false, retryable: false, message: checked.message };
    if (typeof text !== 'string') return { ok: false, retryable: false, message: 'The message text is not a string.' };
    const chunks = splitMessage(prepareMessageText(text), this.#maxChunkLength);
    if (chunks.length === 0) return { ok: false, retryable: false, message: 'The message is empty; nothing was sent.' };
    if (chunks.length > this.#maxChunks) {
      return {
        ok: false,
        retryable: false,
        message: `The message is too long: ${chunks.length} parts, more than the limit of ${this.#maxChunks}; nothing was sent.`,
      };
    }
    if (signal.aborted) return { ok: false, retryable: true, message: 'Sending was cancelled; nothing was sent.' };

    let mode = checked.mode;
    let value = checked.value;
    for (const [index, chunk] of chunks.entries()) {
      let outcome = await this.#run(mode, value, chunk, signal);
      if (!outcome.ok && outcome.code === 'exit' && index === 0 && mode === 'chat' && scriptErrorNumber(outcome.stderr) === -1728) {
        // Messages does not always know a 1:1 chat by its chat.db guid (the `any;-;` guids of macOS 15 and later);
        // the same conversation is reachable by its handle, and -1728 means nothing was sent.
        const handle = directChatHandle(value);
        if (handle !== undefined) {
          mode = 'buddy';
          value = handle;
          outcome = await this.#run(mode, value, chunk, signal);
        }
      }
      if (!outcome.ok) return partialFailure(this.#describe(outcome, mode, value), index, chunks.length);
    }
    return { ok: true, externalIds: [] };
  }

  #run(mode: SendMode, value: string, chunk: string, signal: AbortSignal): Promise<RunOutcome> {
    if (sha256(SEND_SCRIPT) !== SEND_SCRIPT_SHA256) {
      return Promise.resolve({
        ok: false,
        code: 'integrity',
        message: 'The iMessage send script does not match its pinned SHA-256; refusing to run it.',
      });
    }
    return runProcess(this.#osascriptPath, (paths) => ['-l', 'AppleScript', paths[SCRIPT_FILE_NAME] ?? '', mode, value, chunk], {
      env: this.#env,
      signal,
      timeoutMs: this.#timeoutMs,
      maxStdoutBytes: OUTPUT_LIMIT,
      maxStderrBytes: OUTPUT_LIMIT,
      tempFiles: { [SCRIPT_FILE_NAME]: SEND_SCRIPT },
      tempDirPrefix: 'pavise-osascript-',
      ...(this.#scriptParentDir === undefined ? {} : { tempDirParent: this.#scriptParentDir }),
    });
  }

  #describe(outcome: Exclude<RunOutcome, { ok: true }>, mode: SendMode, value: string): SendFailure {
    switch (outcome.code) {
      case 'integrity':
        return { retryable: false, message: `Could not prepare the iMessage send script: ${outcome.message}` };
      case 'temp-files':
        return { retryable: true, message: `Could not prepare the iMessage send script: ${outcome.message}` };
      case 'not-found':
        return { retryable: false, message: `osascript not found (${this.#osascriptPath}): iMessage sending works only on macOS.` };
      case 'spawn-failed':
        return { retryable: false, message: `osascript could not be started (${outcome.errno}): ${this.#osascriptPath}` };
      case 'timeout':
        return {
          retryable: true,
          message: `Messages did not answer within ${Math.round(this.#timeoutMs / 1000)} s (it may be starting or busy).`,
        };
      case 'aborted':
        return { retryable: true, message: 'Sending was cancelled.' };
      case 'output-limit':
        return { retryable: true, message: `osascript wrote more than ${outcome.limitBytes} bytes to ${outcome.stream}; it was stopped.` };
      case 'exit':
        return describeScriptError(outcome.stderr, outcome.exitCode, mode, value);
    }
  }
}

function partialFailure(failure: SendFailure, sent: number, total: number): SendResult {
  if (sent === 0) return { ok: false, ...failure };
  return {
    ok: false,
    retryable: false,
    message: `Sent ${sent} of ${total} parts, then: ${failure.message} The rest was not sent, so a retry cannot repeat the parts already delivered.`,
  };
}

function sha256(data: string): string {
  return createHash('sha256').update(data).digest('hex');
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, not ${value}`);
  return value;
}
