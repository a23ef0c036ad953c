import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SkillFormatError } from './manifest.js';

/**
 * Unpacks a `.zip`, `.tgz` or `.tar.gz` skill into `into` (an empty private folder) and returns the skill's root:
 * the folder itself, or its single top-level folder. Only regular files and folders are unpacked; links, devices
 * and paths that climb out are refused, and so are archives that unpack to more than the limits below.
 */
export async function extractArchive(path: string, into: string): Promise<string> {
  if (/\.zip$/i.test(path)) {
    const { extractZip } = await import('./zip-archive.js');
    await extractZip(path, into);
  } else if (/\.(?:tgz|tar\.gz)$/i.test(path)) {
    await extractTarball(path, into);
  } else {
    throw new SkillFormatError(`${path} is neither a folder nor a .zip, .tgz or .tar.gz archive.`);
  }
  const top = await readdir(into, { withFileTypes: true });
  if (top.length === 1 && top[0]?.isDirectory()) return join(into, top[0].name);
  return into;
}

async function extractTarball(path: string, into: string): Promise<void> {
  try {
    await unpackTarball(path, into);
  } catch (error) {
    if (error instanceof SkillFormatError) throw error;
    throw new SkillFormatError(`${path} is not a readable .tgz archive (${error instanceof Error ? error.message : String(error)}). Re-create it, or unpack it and install the folder.`);
  }
}

async function unpackTarball(path: string, into: string): Promise<void> {
  const { Parser, x } = await import('tar');
  const { ZIP_LIMITS: LIMITS } = await import('./zip-archive.js');
  // A tar declares each entry's size in its header, so a bomb (tar itself refuses only above 1000:1) is found by
  // reading the headers first, stopping at the one that crosses a limit, before anything is written: the same limits
  // as a .zip. The unpack then refuses the same way, should the file have changed in between.
  let entries = 0;
  let total = 0;
  const overLimit = (entryPath: string, size: number): string | undefined => {
    if (++entries > LIMITS.maxEntries) return `${path} holds more than ${LIMITS.maxEntries} entries; a skill archive may hold at most ${LIMITS.maxEntries}.`;
    if (size > LIMITS.maxFileBytes) return `${path}: ${entryPath} unpacks to ${size} bytes; a file in a skill may be at most ${LIMITS.maxFileBytes} bytes.`;
    total += size;
    if (total > LIMITS.maxTotalBytes) return `${path} unpacks to more than ${LIMITS.maxTotalBytes} bytes; a skill archive may unpack to at most ${LIMITS.maxTotalBytes} bytes.`;
    return undefined;
  };
  await new Promise<void>((resolve, reject) => {
    const source = createReadStream(path);
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry) => {
        const problem = overLimit(entry.path, entry.size);
        if (problem !== undefined) {
          source.destroy();
          reject(new SkillFormatError(problem));
        }
        entry.resume();
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve());
    source.on('error', reject).pipe(parser);
  });
  entries = 0;
  total = 0;
  const refused: string[] = [];
  let tooMuch: string | undefined;
  await x({
    file: path,
    cwd: into,
    strict: true,
    preservePaths: false,
    filter: (entryPath, entry) => {
      const type = 'type' in entry ? entry.type : 'File';
      tooMuch ??= overLimit(entryPath, 'size' in entry && typeof entry.size === 'number' ? entry.size : 0);
      if (tooMuch !== undefined) return false;
      const ok = (type === 'File' || type === 'OldFile' || type === 'Directory') && !entryPath.split('/').includes('..');
      if (!ok) refused.push(entryPath);
      return ok;
    },
  });
  if (tooMuch !== undefined) throw new SkillFormatError(tooMuch);
  if (refused.length > 0) throw new SkillFormatError(`The archive holds entries that are not plain files or folders: ${refused.slice(0, 5).join(', ')}.`);
}
