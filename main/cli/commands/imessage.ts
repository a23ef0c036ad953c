import { homedir } from 'node:os';
import { join } from 'node:path';
import { ChatDbAccessError, ChatDbReader, type ChatDbMessage } from '../../channels/imessage/chat-db-reader.js';
import { loadConfig } from '../../config/config.js';
import { defaultChatDbPath as messagesChatDbPath, paviseHome, homePaths } from '../../config/paths.js';
import { EXIT, UsageError, type CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';

const USAGE = 'tail [--db PATH] [--since ROWID] [--limit N] [--json]';
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100_000;

/**
 * `pavise imessage tail`: decoded messages straight from chat.db, read-only. Needs neither the Keychain nor the
 * Pavise database, only config.json for channels.imessage.chatDbPath. `import` (imessage-import.ts) copies it into memory.
 */
export async function imessageCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'import') return (await import('./imessage-import.js')).imessageImportCommand(rest, io, defaultChatDbPath);
  if (sub !== 'tail') {
    throw new UsageError(
      sub === undefined ? `Usage: pavise imessage ${USAGE} | import [--db PATH] [--since DATE]` : `Unknown imessage command "${sub}". Usage: pavise imessage ${USAGE} | import [--db PATH] [--since DATE]`,
    );
  }
  const { values } = parseCommandArgs(
    'imessage',
    rest,
    { db: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
    { min: 0, max: 0, usage: USAGE },
  );
  const since = values.since === undefined ? undefined : integerOption('--since', values.since, 0, Number.MAX_SAFE_INTEGER);
  const limit = values.limit === undefined ? DEFAULT_LIMIT : integerOption('--limit', values.limit, 1, MAX_LIMIT);
  if (values.db !== undefined && values.db.trim() === '') throw new UsageError('--db needs a path to chat.db.');
  const path = values.db ?? defaultChatDbPath(io.env);

  let reader: ChatDbReader | undefined;
  try {
    reader = ChatDbReader.open(path, { home: io.env.HOME || homedir() });
    const messages = since === undefined ? reader.readLatest(limit) : reader.readSince(since, limit);
    for (const message of messages) {
      if (message.decodeError !== undefined) io.stderr.write(`pavise: message ${message.rowid}: ${message.decodeError}\n`);
      io.stdout.write(values.json ? `${JSON.stringify(toJson(message))}\n` : formatMessage(message));
    }
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ChatDbAccessError) {
      io.stderr.write(`pavise: ${error.message}\n`);
      return EXIT.failure;
    }
    const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
    if (typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code)) {
      io.stderr.write(`pavise: ${path} is busy (Messages is writing to it); try again in a moment.\n`);
      return EXIT.failure;
    }
    throw error;
  } finally {
    reader?.close();
  }
}

/** --db, else config.json's channels.imessage.chatDbPath, else Messages' own location. */
function defaultChatDbPath(env: NodeJS.ProcessEnv): string {
  const config = loadConfig(homePaths(paviseHome(env)).config);
  const configured = config.channels.imessage.chatDbPath;
  const home = env.HOME || homedir();
  if (configured !== undefined) return configured === '~' ? home : configured.startsWith('~/') ? join(home, configured.slice(2)) : configured;
  return messagesChatDbPath(home);
}

function integerOption(flag: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not "${text}". Usage: pavise imessage ${USAGE}`);
  }
  return value;
}

/** The documented JSON line: exactly these keys. */
function toJson(message: ChatDbMessage) {
  return {
    rowid: message.rowid,
    guid: message.guid,
    date: message.date > 0 ? new Date(message.date).toISOString() : null,
    sender: message.sender,
    chatId: message.chatId,
    isGroup: message.isGroup,
    isFromMe: message.isFromMe,
    text: message.text,
    attachments: message.attachments.map((attachment) => ({ path: attachment.path, mimeType: attachment.mimeType, name: attachment.name })),
  };
}

/** Message text is someone else's: control characters (terminal escapes) are shown, never sent to the terminal. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, (char) => `\\u{${char.codePointAt(0)?.toString(16)}}`);
}

function formatMessage(message: ChatDbMessage): string {
  const when = message.date > 0 ? new Date(message.date).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z') : 'unknown time';
  const who = message.isFromMe ? `me${message.sender ? ` (${message.sender})` : ''}` : message.sender || 'unknown sender';
  const where = message.chatId ?? 'no chat';
  const kind = message.kind === 'message' ? '' : ` [${message.kind}]`;
  const text = message.decodeError !== undefined ? '[text could not be decoded]' : printable(message.text).replace(/\n/g, '\n    ');
  const lines = [`#${message.rowid} ${when} ${printable(where)}${message.isGroup ? ' (group)' : ''} ${printable(who)}${kind}: ${text}`];
  for (const attachment of message.attachments) {
    const name = attachment.name ?? attachment.path ?? 'unnamed';
    lines.push(`    attachment: ${printable(name)}${attachment.mimeType ? ` (${printable(attachment.mimeType)})` : ''}${attachment.path ? ` ${printable(attachment.path)}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
