import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { SendResult } from '../channel.js';
import { SEND_SCRIPT, SEND_SCRIPT_ERRORS, SEND_SCRIPT_SHA256 } from './send-script.js';
import type { ImessageSendTarget } from './target.js';

/**
 * Sends iMessages by running the fixed SEND_SCRIPT with osascript (invariant 7): the script is a private file whose
 * content is checked against its pinned hash before every run, the mode, target and text travel as argv, and the
 * process is spawned without a shell. The exact command line for one chunk is
 *
 *   osascript -l AppleScript <scriptFile> <"chat"|"buddy"> <chat guid | handle> <chunk>
 *
 * The script file's path is absolute, so osascript stops reading options there and every later item, even one that
 * starts with "-", is an item of the script's argv.
 */

export const DEFAULT_OSASCRIPT_PATH = '/usr/bin/osascript';
export const DEFAULT_MAX_CHUNK_LENGTH = 2000;
export const DEFAULT_MAX_CHUNKS = 20;
export const DEFAULT_SEND_TIMEOUT_MS = 30_000;
/** System Settings → Privacy & Security → Automation. */
export const AUTOMATION_SETTINGS_URL = 'x-apple.systempreferences:com.apple.preference.security?Privacy_Automation';

const SCRIPT_FILE_NAME = 'send-imessage.applescript';
const OUTPUT_LIMIT = 64 * 1024;
const KILL_GRACE_MS = 2000;

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
  /** Where the private (0700) folder holding the script file is created. Default: os.tmpdir(). */
  readonly scriptParentDir?: string;
}

export type SendMode = 'chat' | 'buddy';

export type CheckedTarget =
  | { readonly ok: true; readonly mode: SendMode; readonly value: string }
  | { readonly ok: false; readonly message: string };

// ---- targets -------------------------------------------------------------------------------------------------------

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
    return { ok: false, message: `Not a Messages chat id: ${quote(value)}. Expected service;-;handle or service;+;chat…` };
  }
  if (hasHandle) {
    const value: unknown = (target as { handle: unknown }).handle;
    if (typeof value === 'string' && isHandle(value)) return { ok: true, mode: 'buddy', value };
    return {
      ok: false,
      message: `Not an iMessage handle: ${quote(value)}. Use a phone number in international form (+15555550100) or an email address; names are ambiguous.`,
    };
  }
  return { ok: false, message: 'No iMessage target was given.' };
}

function quote(value: unknown): string {
  if (typeof value !== 'string') return typeof value;
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

// ---- text ----------------------------------------------------------------------------------------------------------

/**
 * The text as it can travel in argv: NUL ends a C string, so it is removed; a lone surrogate has no UTF-8 form, so it
 * becomes U+FFFD (what Node would send anyway). Nothing else is changed.
 */
export function prepareMessageText(text: string): string {
  return text.replaceAll('\0', '').replace(/\p{Cs}/gu, '\uFFFD');
}

const segmenters = {
  grapheme: new Intl.Segmenter(undefined, { granularity: 'grapheme' }),
  word: new Intl.Segmenter(undefined, { granularity: 'word' }),
  sentence: new Intl.Segmenter(undefined, { granularity: 'sentence' }),
};

/** Breakable white space; no-break spaces (U+00A0, U+2007, U+202F) and U+FEFF are not. */
const BREAKABLE_SPACE = /[\t\n\v\f\r \u0085\u1680\u2000-\u2006\u2008-\u200a\u2028\u2029\u205f\u3000]/;
const LINE_END = /[\n\v\f\r\u0085\u2028\u2029]/;

/**
 * Splits text into chunks of at most maxLength UTF-16 code units that concatenate back to the text exactly. Each
 * chunk ends at the latest good boundary: a paragraph break, then a line break, then a sentence end (each only in the
 * second half of the window, so chunks stay long), then a space between words, then any word boundary (Chinese,
 * Japanese), then a grapheme boundary. White space at a break stays at the end of the earlier chunk. Emoji, flags and
 * combining sequences are never split; only a single grapheme longer than maxLength (abusive text) is cut, between
 * code points, never inside a surrogate pair.
 */
export function splitMessage(text: string, maxLength: number = DEFAULT_MAX_CHUNK_LENGTH): string[] {
  if (!Number.isSafeInteger(maxLength) || maxLength < 2) {
    throw new RangeError(`maxLength must be an integer of at least 2, not ${maxLength}`);
  }
  if (text.length === 0) return [];
  if (text.length <= maxLength) return [text];
  const breaks = new BreakFinder(text);
  const chunks: string[] = [];
  let start = 0;
  while (text.length - start > maxLength) {
    const end = breaks.cut(start, start + maxLength);
    chunks.push(text.slice(start, end));
    start = end;
  }
  chunks.push(text.slice(start));
  return chunks;
}

class BreakFinder {
  readonly #text: string;
  readonly #graphemes: Intl.Segments;
  #words: Intl.Segments | undefined;
  #sentences: Intl.Segments | undefined;

  constructor(text: string) {
    this.#text = text;
    this.#graphemes = segmenters.grapheme.segment(text);
  }

  /** The end of the chunk that starts at start: a position in (start, limit], where limit < text.length. */
  cut(start: number, limit: number): number {
    const min = start + Math.floor((limit - start) / 2);
    return (
      this.#afterSpace(limit, min, 2) ??
      this.#afterSpace(limit, min, 1) ??
      this.#sentenceEnd(limit, min) ??
      this.#wordStart(limit, start, true) ??
      this.#wordStart(limit, start, false) ??
      this.#graphemeStart(limit, start) ??
      this.#codePointStart(limit)
    );
  }

  #isGraphemeBoundary(position: number): boolean {
    return position >= this.#text.length || this.#graphemes.containing(position)?.index === position;
  }

  #isSpace(position: number): boolean {
    return BREAKABLE_SPACE.test(this.#text.charAt(position));
  }

  /** The latest end of a run of white space holding at least `lineEnds` line ends (CRLF counts once). */
  #afterSpace(limit: number, min: number, lineEnds: number): number | undefined {
    for (let end = limit; end > min; end--) {
      if (!this.#isSpace(end - 1) || this.#isSpace(end)) continue;
      let runStart = end - 1;
      while (runStart > 0 && this.#isSpace(runStart - 1)) runStart--;
      let count = 0;
      for (let i = runStart; i < end; i++) {
        const char = this.#text.charAt(i);
        if (char === '\u2029') count += 2;
        else if (LINE_END.test(char) && !(char === '\r' && this.#text.charAt(i + 1) === '\n')) count++;
      }
      if (count >= lineEnds && this.#isGraphemeBoundary(end)) return end;
      end = runStart + 1;
    }
    return undefined;
  }

  #sentenceEnd(limit: number, min: number): number | undefined {
    this.#sentences ??= segmenters.sentence.segment(this.#text);
    return this.#latest(this.#sentences, limit, min, () => true);
  }

  #wordStart(limit: number, floor: number, afterSpace: boolean): number | undefined {
    this.#words ??= segmenters.word.segment(this.#text);
    return this.#latest(
      this.#words,
      limit,
      floor,
      afterSpace ? (position) => this.#isSpace(position - 1) && !this.#isSpace(position) : () => true,
    );
  }

  #latest(segments: Intl.Segments, limit: number, floor: number, accept: (position: number) => boolean): number | undefined {
    let position = segments.containing(limit)?.index;
    while (position !== undefined && position > floor) {
      if (accept(position) && this.#isGraphemeBoundary(position)) return position;
      position = segments.containing(position - 1)?.index;
    }
    return undefined;
  }

  #graphemeStart(limit: number, start: number): number | undefined {
    const position = this.#graphemes.containing(limit)?.index;
    return position !== undefined && position > start ? position : undefined;
  }

  #codePointStart(limit: number): number {
    const before = this.#text.charCodeAt(limit - 1);
    const after = this.#text.charCodeAt(limit);
    const inPair = before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
    return inPair ? limit - 1 : limit;
  }
}

// ---- running osascript ---------------------------------------------------------------------------------------------

type RunOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'spawn-error'; readonly code: string }
  | { readonly kind: 'failed'; readonly exitCode: number | null; readonly stderr: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'aborted' };

type Failure = { readonly retryable: boolean; readonly message: string };

class ScriptIntegrityError extends Error {}

export class AppleScriptSender {
  readonly #osascriptPath: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #timeoutMs: number;
  readonly #maxChunkLength: number;
  readonly #maxChunks: number;
  readonly #scriptParentDir: string;
  readonly #folders = new Set<string>();
  #scriptFile: Promise<string> | undefined;

  constructor(options: AppleScriptSenderOptions = {}) {
    this.#env = options.env ?? process.env;
    this.#osascriptPath = options.osascriptPath ?? (this.#env.PAVISE_OSASCRIPT || DEFAULT_OSASCRIPT_PATH);
    this.#timeoutMs = positiveInteger(options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS, 'timeoutMs');
    this.#maxChunkLength = positiveInteger(options.maxChunkLength ?? DEFAULT_MAX_CHUNK_LENGTH, 'maxChunkLength');
    this.#maxChunks = positiveInteger(options.maxChunks ?? DEFAULT_MAX_CHUNKS, 'maxChunks');
    this.#scriptParentDir = options.scriptParentDir ?? tmpdir();
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
      let outcome = await this.#runChecked(mode, value, chunk, signal);
      if (outcome.kind === 'failed' && index === 0 && mode === 'chat' && errorNumber(outcome.stderr) === -1728) {
        // Messages does not always know a 1:1 chat by its chat.db guid (the `any;-;` guids of macOS 15 and later);
        // the same conversation is reachable by its handle, and -1728 means nothing was sent.
        const handle = DIRECT_CHAT.exec(value)?.[1];
        if (handle !== undefined && isHandle(handle)) {
          mode = 'buddy';
          value = handle;
          outcome = await this.#runChecked(mode, value, chunk, signal);
        }
      }
      if (outcome.kind !== 'ok') return this.#failure(this.#describe(outcome, mode, value), index, chunks.length);
    }
    return { ok: true, externalIds: [] };
  }

  /** Removes the script files this sender wrote. A later send writes a new one. */
  async close(): Promise<void> {
    this.#scriptFile = undefined;
    const folders = [...this.#folders];
    this.#folders.clear();
    await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
  }

  async #runChecked(mode: SendMode, value: string, chunk: string, signal: AbortSignal): Promise<RunOutcome | ScriptProblem> {
    let scriptPath: string;
    try {
      scriptPath = await this.#verifiedScriptPath();
    } catch (error) {
      return { kind: 'script', integrity: error instanceof ScriptIntegrityError, detail: String(error) };
    }
    return this.#run([scriptPath, mode, value, chunk], signal);
  }

  /** The script file, checked against SEND_SCRIPT_SHA256 now; rewritten in a fresh folder when missing or changed. */
  async #verifiedScriptPath(): Promise<string> {
    if (this.#scriptFile !== undefined) {
      const path = await this.#scriptFile.catch(() => undefined);
      if (path !== undefined && (await hasPinnedContent(path))) return path;
    }
    this.#scriptFile = this.#writeScript();
    return this.#scriptFile;
  }

  async #writeScript(): Promise<string> {
    if (sha256(SEND_SCRIPT) !== SEND_SCRIPT_SHA256) {
      throw new ScriptIntegrityError('The iMessage send script does not match its pinned SHA-256; refusing to run it.');
    }
    const folder = await mkdtemp(join(this.#scriptParentDir, 'pavise-osascript-'));
    this.#folders.add(folder);
    const path = join(folder, SCRIPT_FILE_NAME);
    if (!isAbsolute(path)) throw new ScriptIntegrityError(`The script path is not absolute: ${path}`);
    await writeFile(path, SEND_SCRIPT, { encoding: 'utf8', mode: 0o600, flag: 'wx' });
    if (!(await hasPinnedContent(path))) throw new ScriptIntegrityError('The iMessage send script changed on disk.');
    return path;
  }

  #run(scriptArgs: readonly string[], signal: AbortSignal): Promise<RunOutcome> {
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve({ kind: 'aborted' });
        return;
      }
      let child: ChildProcessByStdio<null, Readable, Readable>;
      try {
        child = spawn(this.#osascriptPath, ['-l', 'AppleScript', ...scriptArgs], {
          shell: false,
          env: this.#env,
          stdio: ['ignore', 'pipe', 'pipe'],
          windowsHide: true,
        });
      } catch (error) {
        // A value Node cannot put in argv or the environment (a NUL byte) throws before anything starts.
        resolve({ kind: 'spawn-error', code: (error as NodeJS.ErrnoException).code ?? 'EINVAL' });
        return;
      }
      let stderr = '';
      let ended: 'timeout' | 'aborted' | undefined;
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = (reason: 'timeout' | 'aborted') => {
        if (ended !== undefined || settled) return;
        ended = reason;
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      };
      const onAbort = () => stop('aborted');
      const timer = setTimeout(() => stop('timeout'), this.#timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      const finish = (outcome: RunOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(killTimer);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      child.stdout.resume();
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (data: string) => {
        if (stderr.length < OUTPUT_LIMIT) stderr += data.slice(0, OUTPUT_LIMIT - stderr.length);
      });
      child.on('error', (error: NodeJS.ErrnoException) => {
        // Only a failure to start is final here; after a start, 'close' reports the end.
        if (child.pid === undefined) finish({ kind: 'spawn-error', code: error.code ?? 'UNKNOWN' });
      });
      child.on('close', (exitCode) => {
        if (child.pid === undefined) return; // never started: 'error' reports it
        if (ended !== undefined) finish({ kind: ended });
        else if (exitCode === 0) finish({ kind: 'ok' });
        else finish({ kind: 'failed', exitCode, stderr });
      });
    });
  }

  #describe(outcome: Exclude<RunOutcome, { kind: 'ok' }> | ScriptProblem, mode: SendMode, value: string): Failure {
    switch (outcome.kind) {
      case 'script':
        return { retryable: !outcome.integrity, message: `Could not prepare the iMessage send script: ${outcome.detail}` };
      case 'spawn-error':
        if (outcome.code === 'ENOENT') {
          return {
            retryable: false,
            message: `osascript not found (${this.#osascriptPath}): iMessage sending works only on macOS.`,
          };
        }
        return { retryable: false, message: `osascript could not be started (${outcome.code}): ${this.#osascriptPath}` };
      case 'timeout':
        return {
          retryable: true,
          message: `Messages did not answer within ${Math.round(this.#timeoutMs / 1000)} s (it may be starting or busy).`,
        };
      case 'aborted':
        return { retryable: true, message: 'Sending was cancelled.' };
      case 'failed':
        return describeScriptError(outcome.stderr, outcome.exitCode, mode, value);
    }
  }

  #failure(failure: Failure, sent: number, total: number): SendResult {
    if (sent === 0) return { ok: false, ...failure };
    return {
      ok: false,
      retryable: false,
      message: `Sent ${sent} of ${total} parts, then: ${failure.message} The rest was not sent, so a retry cannot repeat the parts already delivered.`,
    };
  }
}

type ScriptProblem = { readonly kind: 'script'; readonly integrity: boolean; readonly detail: string };

const AUTOMATION_DENIED =
  'Pavise is not allowed to control Messages. Open System Settings → Privacy & Security → Automation and allow ' +
  `Pavise to control Messages (${AUTOMATION_SETTINGS_URL}), then try again.`;

/** Classifies osascript's report ("FILE:12:34: execution error: MESSAGE (NUMBER)"). */
export function describeScriptError(stderr: string, exitCode: number | null, mode: SendMode, value: string): Failure {
  const number = errorNumber(stderr);
  const detail = stderr.trim().slice(-300);
  if (number === -1743 || number === -1744 || /not (?:authori[sz]ed|permitted) to send apple events/i.test(stderr)) {
    return { retryable: false, message: AUTOMATION_DENIED };
  }
  if (stderr.includes(SEND_SCRIPT_ERRORS.ambiguousHandle)) {
    return {
      retryable: false,
      message: `The handle ${quote(value)} matches more than one person in Messages, so Pavise did not guess; send to the chat instead.`,
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
          ? `Messages has no chat with the id ${quote(value)}.`
          : `Messages could not find ${quote(value)} on iMessage.`,
    };
  }
  if (number === -600 || number === -609 || number === -1712 || number === -10810) {
    return { retryable: true, message: `Messages is not running or not responding (${number}).` };
  }
  return { retryable: true, message: `osascript failed (exit ${exitCode ?? 'signal'}): ${detail || 'no message'}` };
}

function errorNumber(stderr: string): number | undefined {
  const match = /\((-?\d+)\)\s*$/.exec(stderr.trim());
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

async function hasPinnedContent(path: string): Promise<boolean> {
  const content = await readFile(path).catch(() => undefined);
  return content !== undefined && sha256(content) === SEND_SCRIPT_SHA256;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, not ${value}`);
  return value;
}
