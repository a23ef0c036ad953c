import { constants, realpathSync, type Stats } from 'node:fs';
import { lstat, open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { FolderGrant } from '../../common/config-schema.js';

export type Access = 'read' | 'read-write';

/** A path refused by the grants, with words for the owner and the model that say what to do instead. */
export class PathRefused extends Error {
  override readonly name = 'PathRefused';
}

interface ResolvedGrant {
  /** The folder as configured ("~/Documents"), for messages. */
  readonly configured: string;
  /** The folder after symlinks, the form every check compares against. */
  readonly real: string;
  readonly access: Access;
}

/** A path inside a grant, after symlinks; `existing` is false for a file about to be created. */
export interface GrantedPath {
  readonly real: string;
  readonly grant: ResolvedGrant;
}

/**
 * The owner's folder grants (`files.folders`). Every path is resolved after symlinks (realpath) before it is
 * compared, so a link inside a granted folder that points out of it is outside. Opening re-checks the identity of
 * what was opened (device and inode) against the path after opening, so a directory or link swapped between the
 * check and the open is caught.
 */
export class FolderGrants {
  readonly #grants: Promise<readonly ResolvedGrant[]>;
  /** The grants once resolved, for the synchronous check of a call's input (send_mail's attachments). */
  #resolved: readonly ResolvedGrant[] | undefined;

  constructor(
    grants: readonly FolderGrant[],
    readonly homeDir: string,
  ) {
    this.#grants = Promise.all(
      grants.map(async (grant) => {
        const expanded = this.expand(grant.path);
        // A granted folder that does not exist (yet) grants nothing until it does.
        const real = await realpath(expanded).catch(() => undefined);
        return real === undefined ? undefined : { configured: grant.path, real, access: grant.access };
      }),
    ).then((all) => (this.#resolved = all.filter((grant): grant is ResolvedGrant => grant !== undefined)));
  }

  /** Resolves once the grants are read; `existingSync` answers only after that. */
  async ready(): Promise<void> {
    await this.#grants;
  }

  /**
   * `existing`, synchronously, for checks that run while a call's input is parsed: an existing path after
   * symlinks, inside a grant with at least `access`. Throws PathRefused otherwise.
   */
  existingSync(path: string, access: Access): GrantedPath {
    const grants = this.#resolved;
    if (!grants) throw new PathRefused('The granted folders are still being read; try again in a moment.');
    if (typeof path !== 'string' || path.trim() === '') throw new PathRefused('No path was given.');
    if (path.includes('\0')) throw new PathRefused('A path may not contain a NUL character.');
    const expanded = this.expand(path);
    const first = grants[0];
    if (!isAbsolute(expanded) && !first) throw new PathRefused('No folder is granted; the owner can add one in Settings › Files & Web.');
    const absolute = isAbsolute(expanded) ? resolve(expanded) : resolve((first as ResolvedGrant).real, expanded);
    let real: string;
    try {
      real = realpathSync(absolute);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new PathRefused(code === 'ENOENT' ? `${path} does not exist.` : `${path} cannot be opened (${code ?? String(error)}).`);
    }
    const grant = grants.find((candidate) => (access === 'read' || candidate.access === 'read-write') && isInside(real, candidate.real));
    if (!grant) {
      const folders = grants.map((candidate) => `${candidate.configured} (${candidate.access})`).join(', ') || 'none';
      throw new PathRefused(`${path} is outside the folders the owner granted (${folders}); Pavise reads and writes nothing else.`);
    }
    return { real, grant };
  }

  /** The granted folders as the owner wrote them, with their access: what the model is told it may use. */
  async describe(): Promise<string> {
    const grants = await this.#grants;
    if (grants.length === 0) return 'no folders (add some under files.folders in config.json)';
    return grants.map((grant) => `${grant.configured} (${grant.access})`).join(', ');
  }

  expand(path: string): string {
    const trimmed = path.trim();
    if (trimmed === '~') return this.homeDir;
    if (trimmed.startsWith('~/')) return join(this.homeDir, trimmed.slice(2));
    return trimmed;
  }

  /**
   * Resolves an existing path after symlinks and returns it when it lies in a grant with at least `access`.
   * Throws PathRefused otherwise.
   */
  async existing(path: string, access: Access): Promise<GrantedPath> {
    const absolute = await this.#absolute(path);
    const real = await realpath(absolute).catch((error: NodeJS.ErrnoException) => {
      throw new PathRefused(error.code === 'ENOENT' ? `${path} does not exist.` : `${path} cannot be opened (${error.code ?? error.message}).`);
    });
    return { real, grant: await this.#check(path, real, access) };
  }

  /**
   * A path that is about to be created: its parent folder must exist and resolve into a grant with `access`; the
   * name itself may not be a link. Throws PathRefused otherwise.
   */
  async creatable(path: string, access: Access): Promise<GrantedPath> {
    const absolute = await this.#absolute(path);
    const name = basename(absolute);
    if (name === '' || name === '.' || name === '..') throw new PathRefused(`${path} does not name a file.`);
    const parent = await realpath(dirname(absolute)).catch(() => {
      throw new PathRefused(`The folder ${dirname(path)} does not exist; create it first or choose a granted folder.`);
    });
    const real = join(parent, name);
    const grant = await this.#check(path, real, access);
    const existing = await lstat(real).catch(() => undefined);
    if (existing?.isSymbolicLink()) throw new PathRefused(`${path} is a symbolic link; Pavise does not write through links.`);
    return { real, grant };
  }

  /**
   * Opens a granted file without following a final link, then checks that what was opened is still the file at a
   * granted path (same device and inode): a parent swapped for a link after the check fails here.
   */
  async openChecked(granted: GrantedPath, flags: number, access: Access, mode = 0o644): Promise<{ handle: FileHandle; stats: Stats }> {
    const handle = await open(granted.real, flags | constants.O_NOFOLLOW, mode);
    try {
      const stats = await handle.stat();
      const again = await this.existing(granted.real, access);
      const now = await stat(again.real);
      if (now.dev !== stats.dev || now.ino !== stats.ino) throw new PathRefused(`${granted.real} changed while it was being opened; try again.`);
      return { handle, stats };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Whether a real path lies inside a grant with at least `access` (no error; for filtering walks). */
  async allows(real: string, access: Access): Promise<boolean> {
    return (await this.#find(real, access)) !== undefined;
  }

  async #absolute(path: string): Promise<string> {
    if (typeof path !== 'string' || path.trim() === '') throw new PathRefused('No path was given.');
    if (path.includes('\0')) throw new PathRefused('A path may not contain a NUL character.');
    const expanded = this.expand(path);
    if (isAbsolute(expanded)) return resolve(expanded);
    // A relative path is read against the first granted folder, never the process's working directory.
    const first = (await this.#grants)[0];
    if (!first) throw new PathRefused(`No folder is granted; add one under files.folders in config.json, e.g. { "path": "~/Documents", "access": "read" }.`);
    return resolve(first.real, expanded);
  }

  async #check(asked: string, real: string, access: Access): Promise<ResolvedGrant> {
    const grant = await this.#find(real, access);
    if (grant) return grant;
    const readOnly = access === 'read-write' ? await this.#find(real, 'read') : undefined;
    if (readOnly) {
      throw new PathRefused(`${asked} is in ${readOnly.configured}, which is granted for reading only; the owner can change its access to "read-write" in config.json (files.folders).`);
    }
    throw new PathRefused(`${asked} is outside the folders the owner granted (${await this.describe()}); Pavise reads and writes nothing else.`);
  }

  async #find(real: string, access: Access): Promise<ResolvedGrant | undefined> {
    for (const grant of await this.#grants) {
      if (access === 'read-write' && grant.access !== 'read-write') continue;
      if (isInside(real, grant.real)) return grant;
    }
    return undefined;
  }
}

export function isInside(child: string, folder: string): boolean {
  const rel = relative(folder, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
