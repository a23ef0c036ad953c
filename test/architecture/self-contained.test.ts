/**
 * A clone stands on its own: no tracked file reads the workspace's shared folder beside the repository (fixtures are copied into
 * test/fixtures/ with their licences), and the product's old name is gone from every tracked file outside the
 * copied fixtures.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((path) => path !== '' && existsSync(resolve(ROOT, path)));
}

function isText(bytes: Buffer): boolean {
  return !bytes.subarray(0, 8000).includes(0);
}

/** Lines of tracked text files (outside `exclude`) that match `pattern`, as `path:line: text`. */
function hits(pattern: RegExp, exclude: (path: string) => boolean): string[] {
  const found: string[] = [];
  for (const path of trackedFiles()) {
    if (exclude(path)) continue;
    const bytes = readFileSync(resolve(ROOT, path));
    if (!isText(bytes)) continue;
    bytes
      .toString('utf8')
      .split('\n')
      .forEach((line, index) => {
        if (pattern.test(line)) found.push(`${path}:${index + 1}: ${line.trim().slice(0, 120)}`);
      });
  }
  return found;
}

// Built from parts so that this file does not match itself.
const OLD_NAME = new RegExp(['cara', 'pace'].join(''), 'i');
const SHARED_FOLDER = new RegExp(
  ['(\\.\\./)+', 'shared/(fixtures|tools|design|hooks)', '|/work/', 'shared', "|['\"]\\.\\.['\"],\\s*['\"]", 'shared'].join(''),
);

describe('a clone stands on its own', () => {
  it('no tracked file outside test/fixtures/ carries the old product name', () => {
    expect(hits(OLD_NAME, (path) => path.startsWith('test/fixtures/'))).toEqual([]);
  });

  it('no test, benchmark, script or source reads the shared folder beside the repository', () => {
    expect(hits(SHARED_FOLDER, (path) => path.startsWith('test/fixtures/') || path.endsWith('.md'))).toEqual([]);
  });

  it('the patterns find what they look for', () => {
    const dots = '..';
    expect(OLD_NAME.test(`the ${['Cara', 'pace'].join('')} app`)).toBe(true);
    expect(SHARED_FOLDER.test(`resolve(ROOT, '${dots}/shared/fixtures')`)).toBe(true);
    expect(SHARED_FOLDER.test(`resolve(ROOT, '${dots}', 'shared')`)).toBe(true);
    expect(SHARED_FOLDER.test(`import { x } from '${dots}/shared/format.js'`)).toBe(false);
  });

  it('every copied fixture folder has a licence and a row in test/fixtures/SOURCES.md', () => {
    const sources = readFileSync(resolve(ROOT, 'test/fixtures/SOURCES.md'), 'utf8');
    const licenceFiles = [...sources.matchAll(/\| ([\w./-]+LICENSE[\w.-]*) \|$/gm)].map((match) => match[1] ?? '');
    expect(licenceFiles.length).toBeGreaterThanOrEqual(7);
    for (const file of licenceFiles) expect(existsSync(resolve(ROOT, 'test/fixtures', file)), file).toBe(true);
    for (const folder of ['imessage', 'telegram', 'applescript', 'prompt-injection', 'ics/node-ical', 'ics/icaljs']) {
      expect(sources, folder).toContain(`| ${folder}/`);
    }
    expect(existsSync(resolve(ROOT, 'bench/data/locomo/LICENSE.md'))).toBe(true);
  });
});
