import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { ChatDbReader, classifyChatDbError } from '../../channels/imessage/chat-db-reader.js';
import type { Config } from '../../common/config-schema.js';
import { roleOf } from '../../identity/roles.js';
import { importMessages, type ImportOutcome, type ImportProgress } from '../../memory/chat-import.js';
import type { Storage } from '../../storage/storage.js';
import { parseCommandArgs } from '../args.js';
import { EXIT, UsageError, type CliIO } from '../io.js';
import { openMemoryHome, secretScrubber } from '../memory-home.js';

export const IMPORT_USAGE = 'import [--db PATH] [--since DATE]';

/**
 * `pavise imessage import`: the owner's whole chat.db into memory, read-only, resumable, answering nothing. Ctrl-C
 * stops after the batch being stored; running it again continues from there.
 */
export async function imessageImportCommand(args: string[], io: CliIO, chatDbPath: (env: NodeJS.ProcessEnv) => string): Promise<number> {
  const { values } = parseCommandArgs('imessage', args, { db: { type: 'string' }, since: { type: 'string' } }, { min: 0, max: 0, usage: IMPORT_USAGE });
  if (values.db !== undefined && values.db.trim() === '') throw new UsageError('--db needs a path to chat.db.');
  const since = values.since === undefined ? undefined : parseSince(values.since);
  const path = resolve(values.db ?? chatDbPath(io.env));
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  let reader: ChatDbReader | undefined;
  let home: ReturnType<typeof openMemoryHome> | undefined;
  try {
    reader = ChatDbReader.open(path, { home: io.env.HOME || homedir() });
    home = openMemoryHome(io.env);
    const broker = await secretScrubber(io.env);
    const outcome = await runImport(reader, home.storage, home.config, { since, signal: controller.signal, onProgress: progressPrinter(io), redact: (text) => broker.redact(text) });
    io.stderr.write(summary(outcome, path));
    return outcome.interrupted ? 130 : EXIT.ok;
  } catch (error) {
    const chatDbError = classifyChatDbError(error, path);
    if (chatDbError) throw chatDbError;
    const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
    if (typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code)) {
      io.stderr.write(`\npavise: ${path} is locked by another program; try again in a moment. What was imported so far is kept, and the next run continues from there.\n`);
      return EXIT.failure;
    }
    throw error;
  } finally {
    process.removeListener('SIGINT', stop);
    reader?.close();
    home?.storage.close();
  }
}

/** The import itself, as the CLI runs it (the memory benchmark imports through here too). */
export function runImport(
  reader: ChatDbReader,
  storage: Storage,
  config: Config,
  options: {
    since?: number | undefined;
    signal?: AbortSignal;
    onProgress?: (progress: ImportProgress) => void;
    batchSize?: number;
    redact?: ((text: string) => string) | undefined;
  } = {},
): Promise<ImportOutcome> {
  const names = new Map(storage.channels.identities().filter((identity) => identity.channel === 'imessage').map((identity) => [identity.identity, identity.displayName]));
  return importMessages(reader, storage.memory, {
    sourceKey: `imessage:${reader.path}`,
    since: options.since,
    roleOf: (sender) => roleOf(config, storage.channels, 'imessage', sender),
    nameOf: (sender) => names.get(sender) ?? undefined,
    signal: options.signal,
    redact: options.redact,
    // An echo of Pavise's send, matched as the gateway matches one in the outbox: "from me" within ten minutes, the
    // self-chat's received copy within a minute.
    sentByPavise: (message) =>
      message.chatId !== null && storage.outbox.sentRecently('imessage', message.chatId, message.text, message.date - (message.isFromMe ? 10 : 1) * 60_000),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
  });
}

function parseSince(text: string): number {
  const at = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) throw new UsageError(`--since must be a date like 2024-05-01 (or 2024-05-01T09:30:00Z), not "${text}". Usage: pavise imessage ${IMPORT_USAGE}`);
  // Date.parse rolls a day the month does not have over into the next month: 2025-02-30 would be 2 March.
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const real = new Date(Date.UTC(year, month - 1, day));
  if (real.getUTCFullYear() !== year || real.getUTCMonth() !== month - 1 || real.getUTCDate() !== day) {
    throw new UsageError(`--since: ${text.slice(0, 10)} is not a day of the calendar; give a real date like 2024-05-01. Usage: pavise imessage ${IMPORT_USAGE}`);
  }
  return at;
}

const BAR_WIDTH = 24;
const LINE_EVERY_MS = 2_000;

/** A bar with rate and ETA redrawn in place on a terminal; a plain line every two seconds otherwise. */
function progressPrinter(io: CliIO): (progress: ImportProgress) => void {
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  let lastLine = -Infinity;
  return (progress) => {
    const rate = progress.elapsedMs > 0 ? (progress.read / progress.elapsedMs) * 1000 : 0;
    const left = Math.max(0, progress.total - progress.read);
    const eta = rate > 0 ? formatDuration((left / rate) * 1000) : '?';
    const share = progress.total > 0 ? Math.min(1, progress.read / progress.total) : 1;
    const figures = `${progress.read.toLocaleString('en-US')}/${progress.total.toLocaleString('en-US')} read, ${progress.imported.toLocaleString('en-US')} new, ${Math.round(rate).toLocaleString('en-US')} msg/s, ETA ${eta}`;
    if (tty) {
      const filled = Math.round(share * BAR_WIDTH);
      io.stderr.write(`\r\u001b[2K[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${Math.floor(share * 100)}% ${figures}`);
    } else if (progress.elapsedMs - lastLine >= LINE_EVERY_MS || progress.read >= progress.total) {
      lastLine = progress.elapsedMs;
      io.stderr.write(`import: ${figures}\n`);
    }
  };
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes}m${String(seconds % 60).padStart(2, '0')}s` : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

function summary(outcome: ImportOutcome, path: string): string {
  const lead = outcome.interrupted ? '\nimport: interrupted' : '\nimport: done';
  const tail = outcome.interrupted ? ` Run \`pavise imessage import\` again to continue from message ${outcome.lastRowid}.` : '';
  return `${lead}: ${outcome.imported.toLocaleString('en-US')} new items from ${path} (${outcome.importedEver.toLocaleString('en-US')} in all; read up to message ${outcome.lastRowid}).${tail}\n`;
}
