import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { checkDescriptor } from '../tools/effect-templates.js';
import { hashSkill, type SkillContent } from './content-hash.js';
import { PAVISE_FILE, parseManifest, SKILL_FILE, SkillFormatError, type SkillManifest } from './manifest.js';
import { type ScanFinding, scanSkill } from './static-scan.js';
import { skillToolDescriptor } from './tool-descriptor.js';

/** Everything the owner sees before granting: what the skill is, exactly which bytes, what it asks for, what the scan found. */
export interface SkillReview {
  readonly manifest: SkillManifest;
  readonly content: SkillContent;
  readonly findings: readonly ScanFinding[];
  /** Reasons it cannot run here (another OS), shown but not blocking. */
  readonly warnings: readonly string[];
  /** The folder that was reviewed (a staging copy for archives). */
  readonly dir: string;
  readonly source: string;
}

export interface StagedSkill {
  readonly review: SkillReview;
  /** Removes the staging folder of an archive; nothing for a folder. */
  dispose(): Promise<void>;
}

/** Reads a skill from a folder, `.zip`, `.tgz` or `.tar.gz` and prepares its review. Throws with what to fix. */
export async function stageSkill(path: string): Promise<StagedSkill> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new SkillFormatError(`Nothing at ${path}. Give a skill folder (with ${SKILL_FILE}), a .zip or a .tgz.`);
  if (info.isDirectory()) return { review: await reviewFolder(path, path), dispose: async () => {} };
  const staging = await mkdtemp(join(tmpdir(), 'pavise-skill-review-'));
  try {
    const { extractArchive } = await import('./archive.js');
    const root = await extractArchive(path, staging);
    return { review: await reviewFolder(root, path), dispose: () => rm(staging, { recursive: true, force: true }) };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

export async function reviewFolder(dir: string, source: string): Promise<SkillReview> {
  const content = await hashSkill(dir);
  const names = new Set(content.files.map((file) => file.path));
  if (!names.has(SKILL_FILE)) throw new SkillFormatError(`${basename(dir)} has no ${SKILL_FILE} at its top level; a skill is a folder with ${SKILL_FILE}.`);
  const skillMd = await readFile(join(dir, SKILL_FILE), 'utf8');
  const paviseText = names.has(PAVISE_FILE) ? await readFile(join(dir, PAVISE_FILE), 'utf8') : undefined;
  const manifest = await parseManifest(skillMd, paviseText);
  for (const tool of manifest.code?.tools ?? []) {
    try {
      checkDescriptor(skillToolDescriptor(manifest.name, tool), `skill ${manifest.name}`);
    } catch (error) {
      throw new SkillFormatError(`${PAVISE_FILE}: ${(error as Error).message}`);
    }
  }
  const files = await Promise.all(content.files.map(async (file) => ({ path: file.path, bytes: await readFile(join(dir, file.path)) })));
  const warnings = manifest.os.length > 0 && !manifest.os.includes(process.platform) ? [`It says it runs on ${manifest.os.join(', ')}, not ${process.platform}.`] : [];
  return { manifest, content, findings: scanSkill(files), warnings, dir, source };
}
