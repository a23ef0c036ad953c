import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Entry, ZipFile } from 'yauzl';
import { SkillFormatError } from './manifest.js';

/** What a skill archive may unpack to; a skill is instructions and a little code, not a data set. */
export const ZIP_LIMITS = { maxEntries: 2000, maxFileBytes: 20 * 1024 * 1024, maxTotalBytes: 64 * 1024 * 1024 } as const;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/**
 * Unpacks a `.zip` into `into`. Every entry is checked before anything is written: the count, each declared size
 * and their sum (a zip bomb declares its sizes, and yauzl stops a stream that inflates past what was declared),
 * names that are absolute or climb out (zip-slip), and Unix modes other than a plain file or folder (symlinks).
 */
export async function extractZip(path: string, into: string): Promise<void> {
  const loaded = await import('yauzl');
  // yauzl is CommonJS: under Node its functions are named exports, in the bundle they sit on `default`.
  const yauzl: Pick<typeof loaded, 'open'> = (loaded as unknown as { default?: Pick<typeof loaded, 'open'> }).default ?? loaded;
  const zip = await new Promise<ZipFile>((done, fail) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false, strictFileNames: true, validateEntrySizes: true, decodeStrings: true }, (error, file) =>
      error ? fail(unreadable(path, error)) : done(file),
    );
  });
  try {
    if (zip.entryCount > ZIP_LIMITS.maxEntries) throw new SkillFormatError(`${path} holds ${zip.entryCount} entries; a skill archive may hold at most ${ZIP_LIMITS.maxEntries}.`);
    const entries = await listEntries(zip, path);
    checkEntries(entries, path, into);
    for (const entry of entries) await writeEntry(zip, entry, path, into);
  } finally {
    zip.close();
  }
}

function unreadable(path: string, error: Error): SkillFormatError {
  const climbing = /^(?:absolute path|invalid relative path): (.*)$/.exec(error.message);
  if (climbing) return new SkillFormatError(`The archive holds entries that climb out of it: ${climbing[1]}. Nothing was unpacked.`);
  return new SkillFormatError(`${path} is not a readable zip archive (${error.message}). Re-create it, or unpack it and install the folder.`);
}

function listEntries(zip: ZipFile, path: string): Promise<Entry[]> {
  return new Promise((done, fail) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => done(entries));
    zip.on('error', (error: Error) => fail(unreadable(path, error)));
    zip.readEntry();
  });
}

function isFolder(entry: Entry): boolean {
  return entry.fileName.endsWith('/');
}

function checkEntries(entries: readonly Entry[], path: string, into: string): void {
  let total = 0;
  const refused: string[] = [];
  for (const entry of entries) {
    const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
    const madeOnUnix = entry.versionMadeBy >> 8 === 3;
    const plain = !madeOnUnix || mode === 0 || mode === (isFolder(entry) ? S_IFDIR : S_IFREG);
    const target = resolve(into, entry.fileName);
    const inside = !isAbsolute(entry.fileName) && !relative(into, target).startsWith('..') && !entry.fileName.split(/[\\/]/).includes('..');
    if (!plain || !inside) refused.push(entry.fileName);
    if (entry.uncompressedSize > ZIP_LIMITS.maxFileBytes) {
      throw new SkillFormatError(`${path}: ${entry.fileName} unpacks to ${entry.uncompressedSize} bytes; a file in a skill may be at most ${ZIP_LIMITS.maxFileBytes} bytes.`);
    }
    total += entry.uncompressedSize;
  }
  if (refused.length > 0) throw new SkillFormatError(`The archive holds entries that are not plain files or folders inside it: ${refused.slice(0, 5).join(', ')}.`);
  if (total > ZIP_LIMITS.maxTotalBytes) throw new SkillFormatError(`${path} unpacks to ${total} bytes; a skill archive may unpack to at most ${ZIP_LIMITS.maxTotalBytes} bytes.`);
}

async function writeEntry(zip: ZipFile, entry: Entry, path: string, into: string): Promise<void> {
  const target = join(into, entry.fileName);
  if (isFolder(entry)) {
    await mkdir(target, { recursive: true });
    return;
  }
  await mkdir(dirname(target), { recursive: true });
  const stream = await new Promise<NodeJS.ReadableStream>((done, fail) => {
    zip.openReadStream(entry, (error, readable) => (error ? fail(unreadable(path, error)) : done(readable)));
  });
  try {
    await pipeline(stream, createWriteStream(target, { flags: 'wx', mode: 0o644 }));
  } catch (error) {
    throw error instanceof SkillFormatError ? error : unreadable(path, error as Error);
  }
}
