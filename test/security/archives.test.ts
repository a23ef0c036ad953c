import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { stageSkill } from '../../main/skills/review.js';

/**
 * Hostile `.tgz` skills (the `.zip` ones are in test/skills/zip-archive.test.ts): every entry a tar can hold that is
 * not a plain file or folder, paths that climb out, and archives that unpack to far more than they weigh. Each is
 * refused before review, nothing lands outside the staging folder, and staging is cleaned up.
 */
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pavise-tgz-'));
  dirs.push(dir);
  return dir;
}

interface TarEntry {
  readonly name: string;
  /** '0' file, '1' hard link, '2' symlink, '3' char device, '5' folder, '6' fifo. */
  readonly type?: string;
  readonly body?: Buffer;
  /** Declared size when no body is given (the body is then that many zero bytes). */
  readonly size?: number;
  readonly link?: string;
}

function header(entry: TarEntry, size: number): Buffer {
  const block = Buffer.alloc(512);
  const put = (text: string, at: number, length: number) => block.write(text.slice(0, length), at, 'utf8');
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0');
  put(entry.name, 0, 100);
  put(octal(entry.type === '5' ? 0o755 : 0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(1_700_000_000, 12), 136, 12);
  block.fill(' ', 148, 156);
  put(entry.type ?? '0', 156, 1);
  put(entry.link ?? '', 157, 100);
  put('ustar\u000000', 257, 8);
  const sum = block.reduce((total, byte) => total + byte, 0);
  put(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8);
  return block;
}

function tgz(dir: string, name: string, entries: readonly TarEntry[]): string {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const body = entry.body ?? Buffer.alloc(entry.size ?? 0);
    parts.push(header(entry, body.length));
    parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  const path = join(dir, name);
  writeFileSync(path, gzipSync(Buffer.concat(parts), { level: 9 }));
  return path;
}

const SKILL_MD = Buffer.from('---\nname: packed\ndescription: A packed skill.\n---\n\nUse it.\n');
const skillFile = (prefix = 'packed/'): TarEntry => ({ name: `${prefix}SKILL.md`, body: SKILL_MD });

function stagingFolders(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('pavise-skill-review-'));
}

describe('a .tgz skill archive', () => {
  it('unpacks a plain one (the control)', async () => {
    const staged = await stageSkill(tgz(scratch(), 'ok.tgz', [{ name: 'packed/', type: '5' }, skillFile()]));
    try {
      expect(staged.review.manifest.name).toBe('packed');
    } finally {
      await staged.dispose();
    }
  });

  it.each([
    ['a symbolic link to ~/.ssh', { name: 'packed/keys', type: '2', link: '/root/.ssh/id_ed25519' }],
    ['a hard link to /etc/passwd', { name: 'packed/passwd', type: '1', link: '/etc/passwd' }],
    ['a character device', { name: 'packed/tty', type: '3' }],
    ['a fifo', { name: 'packed/pipe', type: '6' }],
    ['a path that climbs out', { name: 'packed/../../escaped.txt', body: Buffer.from('x') }],
  ] as const)('refuses %s, and nothing lands outside', async (_label, bad) => {
    const dir = scratch();
    const before = stagingFolders().length;
    await expect(stageSkill(tgz(dir, 'bad.tgz', [skillFile(), bad]))).rejects.toThrow(/not plain files or folders/);
    expect(existsSync(join(dir, 'escaped.txt'))).toBe(false);
    expect(existsSync(join(tmpdir(), 'escaped.txt'))).toBe(false);
    expect(stagingFolders().length).toBeLessThanOrEqual(before);
  });

  it('keeps an absolute path inside the staging folder', async () => {
    const target = join(scratch(), 'absolute.txt');
    await stageSkill(tgz(scratch(), 'abs.tgz', [skillFile(''), { name: target, body: Buffer.from('x') }])).then(
      (staged) => staged.dispose(),
      () => undefined,
    );
    expect(existsSync(target)).toBe(false);
  });

  it('refuses a bomb: a file that unpacks to far more than a skill may hold, before writing it all', async () => {
    const dir = scratch();
    // 200 MiB that compresses about 500:1 (a byte every 4 KiB breaks the runs), under tar's own ratio guard of 1000:1.
    const body = Buffer.alloc(200 * 1024 * 1024);
    for (let at = 0; at < body.length; at += 4096) body[at] = (at / 4096) % 251;
    const bomb = tgz(dir, 'bomb.tgz', [skillFile(), { name: 'packed/zeros.bin', body }]);
    const before = stagingFolders();
    await expect(stageSkill(bomb)).rejects.toThrow(/packed\/zeros\.bin unpacks to 209715200 bytes; a file in a skill may be at most/);
    expect(stagingFolders()).toEqual(before);
  });

  it('refuses one with more entries than a skill may hold', async () => {
    const entries: TarEntry[] = [skillFile()];
    for (let index = 0; index < 2100; index++) entries.push({ name: `packed/f${index}.txt`, body: Buffer.from('x') });
    await expect(stageSkill(tgz(scratch(), 'many.tgz', entries))).rejects.toThrow(/at most|more than/);
  });
});
