import { cp, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SkillRecord, SkillStore } from '../storage/skill-store.js';
import { hashSkill, SkillContentError } from './content-hash.js';
import { PAVISE_FILE, parseManifest, SKILL_FILE, SKILL_NAME, type SkillManifest } from './manifest.js';
import { parseGrant, type SkillPermissions } from './permissions.js';
import type { SkillReview } from './review.js';

/** What the skills module writes to the activity log (wired to it by compose; skills do not import permissions). */
export interface SkillActivity {
  record(entry: { readonly skill: string; readonly summary: string; readonly decision?: string; readonly detail?: Readonly<Record<string, unknown>> }): void;
}

/** A skill ready to load: pinned, enabled, and its files still hash to the pin. */
export interface LoadedSkill {
  readonly record: SkillRecord;
  readonly manifest: SkillManifest;
  readonly dir: string;
  readonly granted: SkillPermissions;
}

export type InstallResult =
  | { readonly ok: true; readonly value: SkillRecord }
  | { readonly ok: false; readonly code: 'hash-mismatch' | 'bad-name' | 'reserved-secret'; readonly message: string };

/**
 * The installed skills: copies under `PAVISE_HOME/skills/<name>`, each pinned by the hash the owner reviewed and
 * checked again every time it loads. A folder without a row never loads; a row whose folder changed is marked
 * `changed` and stays off until the owner reviews it again.
 */
export class InstalledSkills {
  constructor(
    private readonly store: SkillStore,
    private readonly skillsDir: string,
    private readonly activity: SkillActivity,
    /** Pavise's own keys (main/secrets/core-secrets.ts): never granted to a skill, whatever its grant says. */
    private readonly reservedSecret: (name: string) => boolean,
  ) {}

  /** Whether `name` is one of Pavise's own keys, which no skill may be granted or have set for it. */
  isReservedSecret(name: string): boolean {
    return this.reservedSecret(name);
  }

  dirOf(name: string): string {
    if (!SKILL_NAME.test(name)) throw new RangeError(`"${name}" is not a skill name.`);
    return join(this.skillsDir, name);
  }

  list(): SkillRecord[] {
    return this.store.list().filter((record) => record.kind === 'skill');
  }

  get(name: string): SkillRecord | undefined {
    const record = this.store.get(name);
    return record?.kind === 'skill' ? record : undefined;
  }

  /**
   * Installs what was reviewed, if `grantedHash` is its hash: the folder is copied, the copy hashed again (it must
   * still be the reviewed content), and the pin and grant recorded. Installing over an installed skill replaces it.
   */
  async install(review: SkillReview, grantedHash: string, granted: SkillPermissions): Promise<InstallResult> {
    const name = review.manifest.name;
    if (grantedHash.toLowerCase() !== review.content.hash) {
      return { ok: false, code: 'hash-mismatch', message: `The grant names ${grantedHash}, but the reviewed content hashes to ${review.content.hash}. Review it again and grant that hash.` };
    }
    const reserved = granted.secrets.filter((secret) => this.reservedSecret(secret));
    if (reserved.length > 0) {
      return {
        ok: false,
        code: 'reserved-secret',
        message: `${reserved.map((secret) => `"${secret}"`).join(', ')} ${reserved.length === 1 ? 'is one' : 'are'} of Pavise's own keys and cannot be granted to a skill: the skill could send it to its own server. Install it without that grant; if the skill needs its own key for that service, give it a name of its own (e.g. "${name}-${reserved[0]}").`,
      };
    }
    const existing = this.store.get(name);
    if (existing && existing.kind !== 'skill') return { ok: false, code: 'bad-name', message: `"${name}" is already the name of an MCP server; rename one of them.` };
    await mkdir(this.skillsDir, { recursive: true, mode: 0o700 });
    const dest = this.dirOf(name);
    const incoming = `${dest}.incoming-${process.pid}`;
    await rm(incoming, { recursive: true, force: true });
    await cp(review.dir, incoming, { recursive: true, errorOnExist: true, force: false, verbatimSymlinks: true });
    const copied = await hashSkill(incoming).catch((error: unknown) => ({ hash: `unreadable: ${(error as Error).message}` }));
    if (copied.hash !== review.content.hash) {
      await rm(incoming, { recursive: true, force: true });
      return { ok: false, code: 'hash-mismatch', message: `The skill's files changed while it was being installed (now ${copied.hash}); review it again.` };
    }
    await rm(dest, { recursive: true, force: true });
    await rename(incoming, dest);
    const record = this.store.pin({ name, kind: 'skill', contentHash: review.content.hash, granted, state: 'enabled', source: review.source });
    this.activity.record({ skill: name, summary: `Installed skill ${name} (${review.content.hash.slice(0, 12)}…)`, decision: 'installed', detail: { hash: review.content.hash, granted } });
    return { ok: true, value: record };
  }

  async remove(name: string): Promise<boolean> {
    const record = this.get(name);
    if (!record) return false;
    this.store.remove(name);
    await rm(this.dirOf(name), { recursive: true, force: true });
    this.activity.record({ skill: name, summary: `Removed skill ${name}`, decision: 'removed' });
    return true;
  }

  /** Turns a skill on or off. A changed skill cannot be enabled: it must be reviewed again (`enable --grant HASH`). */
  setEnabled(name: string, enabled: boolean): { ok: true } | { ok: false; message: string } {
    const record = this.get(name);
    if (!record) return { ok: false, message: `No skill named "${name}" is installed. See: pavise skills list` };
    if (enabled && record.state === 'changed') {
      return { ok: false, message: `Skill "${name}" changed on disk after it was reviewed. Review it again: pavise skills show ${name}, then pavise skills enable ${name} --grant NEW_HASH.` };
    }
    this.store.setState(name, enabled ? 'enabled' : 'disabled');
    this.activity.record({ skill: name, summary: `${enabled ? 'Enabled' : 'Disabled'} skill ${name}`, decision: enabled ? 'enabled' : 'disabled' });
    return { ok: true };
  }

  /** Re-pins a changed skill to the content now on disk, after the owner reviewed it and named its hash. */
  async repin(review: SkillReview, grantedHash: string): Promise<InstallResult> {
    const record = this.get(review.manifest.name);
    if (!record) return { ok: false, code: 'bad-name', message: `No skill named "${review.manifest.name}" is installed.` };
    if (grantedHash.toLowerCase() !== review.content.hash) {
      return { ok: false, code: 'hash-mismatch', message: `The grant names ${grantedHash}, but its files hash to ${review.content.hash}. Review it again and grant that hash.` };
    }
    const granted = parseGrant(record.granted);
    const pinned = this.store.pin({ name: record.name, kind: 'skill', contentHash: review.content.hash, granted, state: 'enabled', source: record.source });
    this.activity.record({ skill: record.name, summary: `Reviewed and re-pinned skill ${record.name} (${review.content.hash.slice(0, 12)}…)`, decision: 'enabled', detail: { hash: review.content.hash } });
    return { ok: true, value: pinned };
  }

  /**
   * The check at every load: hashes the installed copy; a mismatch (or missing, unreadable or linked files) marks it
   * `changed` in the store and the activity log, and it does not load.
   */
  async verify(name: string): Promise<{ ok: true; value: LoadedSkill } | { ok: false; state: 'missing' | 'disabled' | 'changed'; message: string }> {
    const record = this.get(name);
    if (!record) return { ok: false, state: 'missing', message: `No skill named "${name}" is installed.` };
    if (record.state === 'changed') return { ok: false, state: 'changed', message: `Skill "${name}" changed on disk after review; it stays off until reviewed again.` };
    const dir = this.dirOf(name);
    let problem: string | undefined;
    try {
      const content = await hashSkill(dir);
      if (content.hash !== record.contentHash) problem = `its files hash to ${content.hash.slice(0, 12)}…, not the pinned ${record.contentHash.slice(0, 12)}…`;
    } catch (error) {
      problem = error instanceof SkillContentError ? error.message : `its folder cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    }
    let manifest: SkillManifest | undefined;
    if (problem === undefined) {
      // Pinned content that this version no longer accepts (a rule added since it was reviewed) stays off, like a
      // changed skill, instead of failing every start-up.
      try {
        manifest = await parseManifest(await readFile(join(dir, SKILL_FILE), 'utf8'), await readFile(join(dir, PAVISE_FILE), 'utf8').catch(() => undefined));
      } catch (error) {
        problem = `its manifest no longer passes review (${(error as Error).message})`;
      }
    }
    if (problem !== undefined || manifest === undefined) {
      problem ??= 'its manifest could not be read';
      this.store.setState(name, 'changed');
      this.activity.record({ skill: name, summary: `Skill ${name} changed on disk after review (${problem}); disabled until reviewed again`, decision: 'changed', detail: { pinned: record.contentHash } });
      return { ok: false, state: 'changed', message: `Skill "${name}" changed on disk after review: ${problem}. It is off until reviewed again.` };
    }
    if (record.state === 'disabled') return { ok: false, state: 'disabled', message: `Skill "${name}" is disabled.` };
    // A grant pinned before core keys were refused at install still never reaches the broker.
    const granted = parseGrant(record.granted);
    return { ok: true, value: { record, manifest, dir, granted: { ...granted, secrets: granted.secrets.filter((secret) => !this.reservedSecret(secret)) } } };
  }

  /** Every enabled skill that passes its check, in name order. */
  async loadAll(): Promise<LoadedSkill[]> {
    const loaded: LoadedSkill[] = [];
    for (const record of this.list()) {
      if (record.state !== 'enabled') continue;
      const verified = await this.verify(record.name);
      if (verified.ok) loaded.push(verified.value);
    }
    return loaded;
  }
}
