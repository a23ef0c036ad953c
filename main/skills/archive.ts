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
  const { x } = await import('tar');
  const refused: string[] = [];
  await x({
    file: path,
    cwd: into,
    strict: true,
    preservePaths: false,
    noChmod: true,
    filter: (entryPath, entry) => {
      const type = 'type' in entry ? entry.type : 'File';
      const ok = (type === 'File' || type === 'OldFile' || type === 'Directory') && !entryPath.split('/').includes('..');
      if (!ok) refused.push(entryPath);
      return ok;
    },
  });
  if (refused.length > 0) throw new SkillFormatError(`The archive holds entries that are not plain files or folders: ${refused.slice(0, 5).join(', ')}.`);
}
