import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { stageSkill } from '../../main/skills/review.js';
import { ZIP_LIMITS } from '../../main/skills/zip-archive.js';
import { FIRST_PARTY_SKILLS } from '../helpers/skills.js';
import { buildZip, type ZipEntrySpec } from '../helpers/zip-writer.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function zipFile(entries: readonly ZipEntrySpec[]): { path: string; work: string } {
  const work = mkdtempSync(join(tmpdir(), 'pavise-zip-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const path = join(work, 'skill.zip');
  writeFileSync(path, buildZip(entries));
  return { path, work };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

const SKILL_MD = '---\nname: zipped\ndescription: A skill that came in a zip.\n---\nSay hello.\n';

/** Staging folders live in tmpdir; none may be left behind by a refused archive. */
function stagingFolders(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('pavise-skill-review-'));
}

describe('.zip skill archives', () => {
  it('unpack a real skill (the first-party weather skill) to the same content hash as its folder', async () => {
    const folder = await stageSkill(join(FIRST_PARTY_SKILLS, 'weather'));
    const entries = filesUnder(join(FIRST_PARTY_SKILLS, 'weather')).map((path) => ({ name: `weather/${path}`, data: readFileSync(join(FIRST_PARTY_SKILLS, 'weather', path)) }));
    const { path } = zipFile([{ name: 'weather/' }, ...entries]);
    const zipped = await stageSkill(path);
    try {
      expect(zipped.review.manifest.name).toBe('weather');
      expect(zipped.review.content.hash).toBe(folder.review.content.hash);
      expect(zipped.review.source).toBe(path);
    } finally {
      await zipped.dispose();
    }
    expect(existsSync(zipped.review.dir)).toBe(false);
  });

  it('unpack a skill whose files sit at the top of the zip', async () => {
    const { path } = zipFile([{ name: 'SKILL.md', data: SKILL_MD }, { name: 'references/notes.md', data: 'notes' }]);
    const staged = await stageSkill(path);
    try {
      expect(staged.review.manifest.name).toBe('zipped');
      expect(staged.review.content.files.map((file) => file.path).sort()).toEqual(['SKILL.md', 'references/notes.md']);
    } finally {
      await staged.dispose();
    }
  });

  const hostile: [string, ZipEntrySpec[], RegExp][] = [
    ['a path that climbs out (zip-slip)', [{ name: 'SKILL.md', data: SKILL_MD }, { name: '../../escaped.txt', data: 'out' }], /climb out of it: \.\.\/\.\.\/escaped\.txt/],
    ['an absolute path', [{ name: 'SKILL.md', data: SKILL_MD }, { name: '/tmp/pavise-zip-absolute.txt', data: 'out' }], /climb out of it: \/tmp\/pavise-zip-absolute\.txt/],
    ['a symlink', [{ name: 'SKILL.md', data: SKILL_MD }, { name: 'key', data: '/root/.ssh/id_ed25519', mode: 0o120777 }], /not plain files or folders inside it: key/],
    ['a file that declares an absurd size', [{ name: 'SKILL.md', data: SKILL_MD }, { name: 'big.bin', data: 'x', declaredSize: ZIP_LIMITS.maxFileBytes + 1 }], /big\.bin unpacks to \d+ bytes; a file in a skill may be at most/],
    ['files that add up to an absurd size', [{ name: 'SKILL.md', data: SKILL_MD }, ...[1, 2, 3, 4].map((n) => ({ name: `part${n}.bin`, data: 'x', declaredSize: ZIP_LIMITS.maxFileBytes }))], /unpacks to \d+ bytes; a skill archive may unpack to at most/],
    ['a bomb that lies about its size', [{ name: 'SKILL.md', data: SKILL_MD }, { name: 'bomb.bin', data: Buffer.alloc(4 * 1024 * 1024), declaredSize: 16 }], /not a readable zip archive \(.*too many bytes/],
    ['too many entries', [{ name: 'SKILL.md', data: SKILL_MD }, ...Array.from({ length: ZIP_LIMITS.maxEntries }, (_, n) => ({ name: `f/${n}.txt` }))], /holds 2001 entries; a skill archive may hold at most 2000/],
  ];

  it.each(hostile)('refuse %s with a clear error, write nothing outside and leave no staging folder', async (_label, entries, message) => {
    const before = stagingFolders();
    const { path, work } = zipFile(entries);
    await expect(stageSkill(path)).rejects.toThrow(message);
    expect(existsSync(join(work, '..', 'escaped.txt'))).toBe(false);
    expect(existsSync('/tmp/pavise-zip-absolute.txt')).toBe(false);
    expect(stagingFolders()).toEqual(before);
  });

  it('refuse a file that is not a zip at all, saying what to do', async () => {
    const work = mkdtempSync(join(tmpdir(), 'pavise-zip-'));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const path = join(work, 'broken.zip');
    writeFileSync(path, 'this is not a zip');
    await expect(stageSkill(path)).rejects.toThrow(/is not a readable zip archive .*unpack it and install the folder/);
  });
});

describe('.tgz skill archives', () => {
  it('refuse a file that is not a gzipped tar, or one cut short, saying what to do', async () => {
    const work = mkdtempSync(join(tmpdir(), 'pavise-tgz-'));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const text = join(work, 'broken.tgz');
    writeFileSync(text, 'this is not a tarball');
    await expect(stageSkill(text)).rejects.toThrow(/broken\.tgz is not a readable \.tgz archive \(.*\)\. Re-create it, or unpack it and install the folder/);
    const cut = join(work, 'cut.tar.gz');
    writeFileSync(cut, gzipSync(Buffer.alloc(4096, 'a')).subarray(0, 20));
    await expect(stageSkill(cut)).rejects.toThrow(/cut\.tar\.gz is not a readable \.tgz archive/);
  });
});
