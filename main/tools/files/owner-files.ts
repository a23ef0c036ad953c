import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';

/**
 * Which files the owner created through Pavise, by real path and SHA-256 of their contents. A file's contents are
 * untrusted unless it is listed here with the hash it has now: a downloaded PDF, a file someone else wrote, or a
 * file Pavise wrote in a turn that had read untrusted text all stay untrusted, and so does an owner's file that was
 * changed afterwards by anything else.
 *
 * Kept as a small 0600 JSON file in PAVISE_HOME (written whole and renamed into place) rather than a table, so the
 * file tools need no schema change.
 */
export class OwnerFiles {
  constructor(readonly path: string) {}

  async isOwners(real: string, contents: Buffer): Promise<boolean> {
    const known = (await this.#load()).get(real);
    return known !== undefined && known === sha256(contents);
  }

  /** Records (owner) or forgets (anyone else) the file now at `real` with these contents. */
  async record(real: string, contents: Buffer | undefined, byOwner: boolean): Promise<void> {
    const map = await this.#load();
    if (byOwner && contents) map.set(real, sha256(contents));
    else map.delete(real);
    await this.#save(map);
  }

  async moved(from: string, to: string): Promise<void> {
    const map = await this.#load();
    const hash = map.get(from);
    map.delete(from);
    map.delete(to);
    if (hash !== undefined) map.set(to, hash);
    await this.#save(map);
  }

  async #load(): Promise<Map<string, string>> {
    // Re-read each time: another Pavise process (the gateway, the CLI) may have written it.
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as unknown;
      const entries = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.entries(parsed) : [];
      return new Map(entries.filter((entry): entry is [string, string] => typeof entry[1] === 'string' && /^[0-9a-f]{64}$/.test(entry[1])));
    } catch (error) {
      // A missing or damaged record only makes files less trusted, never more.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !(error instanceof SyntaxError)) throw error;
      return new Map();
    }
  }

  async #save(map: Map<string, string>): Promise<void> {
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(Object.fromEntries(map))}\n`, { mode: 0o600 });
    await rename(temporary, this.path);
  }
}

export function sha256(contents: Buffer): string {
  return createHash('sha256').update(contents).digest('hex');
}
