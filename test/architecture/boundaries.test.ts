import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);

/** The import rules of ARCHITECTURE.md fail the build: a tsconfig per environment and a lint rule. */
describe('architecture boundaries', () => {
  it('type-checks every environment with its own tsconfig (main/common has no Node types)', async () => {
    for (const project of ['main/common', 'main', 'electron', 'renderer', 'test']) {
      await expect(run(bin('tsc'), ['-p', project], { cwd: ROOT })).resolves.toBeDefined();
    }
  }, 120_000);

  it('lints clean', async () => {
    await expect(run(bin('eslint'), ['main', 'electron', 'renderer', 'test', 'bench'], { cwd: ROOT })).resolves.toBeDefined();
  }, 120_000);

  it.each([
    ['main/agent/__probe__.ts', "import '../memory/database.js';", 'hooks, not imports'],
    ['main/common/__probe__.ts', "import { readFileSync } from 'node:fs'; export const x = readFileSync;", 'no Node built-ins'],
    ['main/common/__probe2__.ts', "import '../services.js';", 'only itself and zod'],
    ['main/config/__probe__.ts', "import 'electron';", 'never import electron'],
    ['renderer/src/__probe__.ts', "import '../../main/services.js';", 'only main/common'],
    ['renderer/src/__probe2__.ts', "import { readFileSync } from 'node:fs'; export const x = readFileSync;", 'no Node built-ins'],
  ])('refuses a forbidden import in %s', async (file, source, message) => {
    const path = join(ROOT, file);
    mkdirSync(resolve(path, '..'), { recursive: true });
    writeFileSync(path, `${source}\n`);
    try {
      const failure = await run(bin('eslint'), [file], { cwd: ROOT }).then(
        () => undefined,
        (error: { stdout: string }) => error,
      );
      expect(failure?.stdout).toContain(message);
    } finally {
      rmSync(path, { force: true });
    }
  }, 60_000);
});
