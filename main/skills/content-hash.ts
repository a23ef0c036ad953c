import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** A skill's files as hashed: relative paths with `/`, sorted, each with its size and whether it is executable. */
export interface SkillFile {
  readonly path: string;
  readonly size: number;
  readonly executable: boolean;
}

export interface SkillContent {
  /** SHA-256 (hex) over every file's path, mode bit, size and bytes, in path order. */
  readonly hash: string;
  readonly files: readonly SkillFile[];
  readonly totalBytes: number;
}

export const MAX_SKILL_FILES = 2000;
export const MAX_SKILL_BYTES = 50 * 1024 * 1024;

export class SkillContentError extends Error {
  override readonly name = 'SkillContentError';
}

/**
 * Walks a skill's folder and hashes all of it. Only regular files and folders are allowed: a symbolic link (which
 * could point at ~/.ssh after review), a device or a socket makes the whole skill refused.
 */
export async function hashSkill(root: string, read: (path: string) => Promise<Buffer> = readFile): Promise<SkillContent> {
  const found: { path: string; absolute: string; size: number; executable: boolean }[] = [];
  let totalBytes = 0;
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const absolute = join(dir, entry.name);
      const path = relative(root, absolute).split(sep).join('/');
      const info = await lstat(absolute);
      if (info.isSymbolicLink()) throw new SkillContentError(`"${path}" is a symbolic link; skills may contain only regular files and folders.`);
      if (info.isDirectory()) {
        await walk(absolute);
        continue;
      }
      if (!info.isFile()) throw new SkillContentError(`"${path}" is not a regular file; skills may contain only regular files and folders.`);
      totalBytes += info.size;
      if (found.length >= MAX_SKILL_FILES) throw new SkillContentError(`The skill has more than ${MAX_SKILL_FILES} files.`);
      if (totalBytes > MAX_SKILL_BYTES) throw new SkillContentError(`The skill is larger than ${MAX_SKILL_BYTES / 1024 / 1024} MB.`);
      found.push({ path, absolute, size: info.size, executable: (info.mode & 0o111) !== 0 });
    }
  };
  await walk(root);
  found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const hash = createHash('sha256');
  for (const file of found) {
    const bytes = await read(file.absolute);
    hash.update(`${file.path}\0${file.executable ? 'x' : '-'}\0${bytes.length}\0`);
    hash.update(bytes);
    hash.update('\0');
  }
  return { hash: hash.digest('hex'), files: found.map(({ path, size, executable }) => ({ path, size, executable })), totalBytes };
}
