import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

/** Where a trashed file went, so the owner can find it again. */
export interface Trashed {
  readonly from: string;
  readonly to: string;
}

/** Moves a file or folder to the Trash, recoverable. Never deletes anything. */
export interface Trash {
  put(real: string, now?: Date): Promise<Trashed>;
}

/** The macOS Trash: `~/.Trash`, a free name found by adding " 2", " 3"… as the Finder does. */
export function macTrash(homeDir: string): Trash {
  const folder = join(homeDir, '.Trash');
  return {
    put: async (real) => {
      await mkdir(folder, { recursive: true, mode: 0o700 });
      for (let attempt = 1; attempt < 1000; attempt++) {
        const to = join(folder, numbered(basename(real), attempt));
        // Reserve the name first so a concurrent trash never overwrites it.
        const reserved = await open(to, 'wx').catch((error: NodeJS.ErrnoException) => (error.code === 'EEXIST' ? undefined : Promise.reject(error)));
        if (!reserved) continue;
        await reserved.close();
        await moveOver(real, to);
        return { from: real, to };
      }
      throw new Error('The Trash has no free name for this file; empty the Trash and try again.');
    },
  };
}

/**
 * The freedesktop.org Trash (the home trash, `$XDG_DATA_HOME/Trash`): the `.trashinfo` file is created first with
 * O_EXCL, which reserves the name, then the file is renamed into `files/`. Desktop file managers can restore it.
 */
export function freedesktopTrash(dataHome: string): Trash {
  const root = join(dataHome, 'Trash');
  return {
    put: async (real, now = new Date()) => {
      await mkdir(join(root, 'files'), { recursive: true, mode: 0o700 });
      await mkdir(join(root, 'info'), { recursive: true, mode: 0o700 });
      for (let attempt = 1; attempt < 1000; attempt++) {
        const name = numbered(basename(real), attempt);
        const info = join(root, 'info', `${name}.trashinfo`);
        const handle = await open(info, 'wx', 0o600).catch((error: NodeJS.ErrnoException) => (error.code === 'EEXIST' ? undefined : Promise.reject(error)));
        if (!handle) continue;
        try {
          await handle.writeFile(`[Trash Info]\nPath=${encodeTrashPath(real)}\nDeletionDate=${localTimestamp(now)}\n`);
        } finally {
          await handle.close();
        }
        const to = join(root, 'files', name);
        try {
          await rename(real, to);
        } catch (error) {
          await rm(info, { force: true });
          throw crossDevice(error);
        }
        return { from: real, to };
      }
      throw new Error('The Trash has no free name for this file; empty the Trash and try again.');
    },
  };
}

async function moveOver(real: string, to: string): Promise<void> {
  try {
    // The reserved placeholder is an empty file; rename replaces it (a folder first needs the placeholder gone).
    await rm(to, { force: true });
    await rename(real, to);
  } catch (error) {
    throw crossDevice(error);
  }
}

function crossDevice(error: unknown): unknown {
  if ((error as NodeJS.ErrnoException).code === 'EXDEV') {
    return new Error('The file is on another disk than the Trash; Pavise moves files to the Trash only, it does not delete them. Move it by hand.');
  }
  return error;
}

function numbered(name: string, attempt: number): string {
  if (attempt === 1) return name;
  const extension = extname(name);
  return `${name.slice(0, name.length - extension.length)} ${attempt}${extension}`;
}

/** The spec's Path key: the absolute path, percent-encoded like a URL path. */
function encodeTrashPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function localTimestamp(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
