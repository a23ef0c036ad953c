import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const RULE = '@typescript-eslint/no-restricted-imports';

/** Folders of main/ that other work creates: their rules exist before they do. */
const PLANNED = ['runtime', 'storage', 'identity', 'calendar', 'scheduler', 'skills'];
const MAIN_FOLDERS = [
  ...new Set([...readdirSync(join(ROOT, 'main'), { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name), ...PLANNED]),
].sort();

/**
 * Writes each probe file, lints them all in one ESLint run, removes them, and returns each file's messages. A probe
 * is a real file at a real path, so it meets exactly the config its folder gets.
 */
async function lintProbes(probes: readonly (readonly [file: string, source: string])[]): Promise<Map<string, string[]>> {
  const paths = probes.map(([file]) => join(ROOT, file));
  try {
    for (const [index, [, source]] of probes.entries()) {
      const path = paths[index] as string;
      mkdirSync(resolve(path, '..'), { recursive: true });
      writeFileSync(path, `${source}\n`);
    }
    const results = await new ESLint({ cwd: ROOT }).lintFiles(paths);
    return new Map(results.map((result) => [result.filePath, result.messages.map((message) => message.message)]));
  } finally {
    for (const path of paths) rmSync(path, { force: true });
    for (const folder of PLANNED) {
      const dir = join(ROOT, 'main', folder);
      try {
        if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
      } catch {
        // No such folder: nothing was created there.
      }
    }
  }
}

/** The import rules of ARCHITECTURE.md fail the build: a tsconfig per environment and a lint rule. */
describe('architecture boundaries', () => {
  it('type-checks every environment with its own tsconfig (main/common has no Node types)', async () => {
    for (const project of ['main/common', 'main', 'electron', 'renderer', 'test']) {
      await expect(run(bin('tsc'), ['-p', project], { cwd: ROOT })).resolves.toBeDefined();
    }
    // Five full type-checks: about 50 s on an idle 2-core machine, over 200 s when it is shared and busy.
  }, 300_000);

  it('lints clean', async () => {
    await expect(run(bin('eslint'), ['main', 'electron', 'renderer', 'test', 'bench'], { cwd: ROOT })).resolves.toBeDefined();
  }, 120_000);

  it('gives every folder of main/, and main/compose.ts, exactly one import rule that bans electron and the renderer', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const files = [...MAIN_FOLDERS.map((folder) => `main/${folder}/x.ts`), 'main/compose.ts', 'main/services.ts'];
    for (const file of files) {
      const config = (await eslint.calculateConfigForFile(join(ROOT, file))) as { rules: Record<string, unknown> };
      expect(config.rules['no-restricted-imports'], file).toBeUndefined();
      const [severity, options] = config.rules[RULE] as [number, { patterns: { group: string[] }[] }];
      expect(severity, file).toBe(2);
      const groups = options.patterns.flatMap((pattern) => pattern.group);
      expect(groups, file).toContain('electron');
      expect(groups.some((group) => group === '**/renderer/**'), file).toBe(true);
    }
  }, 60_000);

  it('refuses an import of electron and of the renderer written into a probe file in every folder of main/', async () => {
    const probes = MAIN_FOLDERS.flatMap((folder): [string, string][] => [
      [`main/${folder}/__probe_electron__.ts`, "import 'electron';"],
      [`main/${folder}/__probe_renderer__.ts`, "import '../../renderer/src/api.js';"],
    ]);
    probes.push(['main/__probe_compose__.ts', "import '../renderer/src/api.js';"]);
    const messages = await lintProbes(probes);
    for (const [file] of probes) {
      const found = messages.get(join(ROOT, file)) ?? [];
      const folder = file.split('/')[1];
      const expected = folder === 'common' ? (file.includes('electron') ? 'must not import electron' : 'only itself and zod') : file.includes('electron') ? 'never import electron' : 'must not import the renderer';
      expect(found.join('\n'), file).toContain(expected);
    }
  }, 120_000);

  it.each([
    ['main/agent/__probe__.ts', "import '../memory/database.js';", 'hooks, not imports'],
    ['main/agent/__probe2__.ts', "import '../storage/anything.js';", 'hooks, not imports'],
    ['main/agent/__probe3__.ts', "import '../../renderer/src/api.js';", 'must not import the renderer'],
    ['main/channels/__probe__.ts', "import '../gateway/gateway.js';", 'Channels must not import'],
    ['main/channels/__probe2__.ts', "import '../../renderer/src/api.js';", 'must not import the renderer'],
    ['main/channels/imessage/__probe__.ts', "import '../../permissions/gate.js';", 'Channels must not import'],
    ['main/permissions/__probe__.ts', "import '../channels/channel.js';", 'The gate must not import channels'],
    ['main/permissions/__probe2__.ts', "import { runAgent } from '../agent/loop.js'; export const x = runAgent;", 'must not import the agent loop'],
    ['main/tools/__probe__.ts', "import '../channels/channel.js';", 'Tools and skills must not import'],
    ['main/memory/__probe__.ts', "import '../gateway/gateway.js';", 'Storage and memory must not import'],
    ['main/storage/__probe__.ts', "import '../runtime/turn-runner.js';", 'Storage and memory must not import'],
    ['main/runtime/__probe__.ts', "import '../gateway/gateway.js';", "must not import the gateway's"],
    ['main/common/__probe__.ts', "import { readFileSync } from 'node:fs'; export const x = readFileSync;", 'no Node built-ins'],
    ['main/common/__probe2__.ts', "import '../services.js';", 'only itself and zod'],
    ['main/config/__probe__.ts', "import 'electron';", 'never import electron'],
    ['electron/__probe__.ts', "import '../renderer/src/api.js';", 'electron/ must not import the renderer'],
    ['electron/preload__probe__.ts', "import '../main/services.js';", 'only electron and main/common'],
    ['electron/preload__probe2__.ts', "import { readFileSync } from 'node:fs'; export const x = readFileSync;", 'no Node built-ins'],
    ['renderer/src/__probe__.ts', "import '../../main/services.js';", 'only main/common'],
    ['renderer/src/__probe2__.ts', "import { readFileSync } from 'node:fs'; export const x = readFileSync;", 'no Node built-ins'],
  ])('refuses a forbidden import in %s', async (file, source, message) => {
    const messages = await lintProbes([[file, source]]);
    expect((messages.get(join(ROOT, file)) ?? []).join('\n')).toContain(message);
  }, 60_000);

  it('lets the gate use the agent loop\'s hook types (a type import is no dependency at run time)', async () => {
    const file = 'main/permissions/__probe_types__.ts';
    const messages = await lintProbes([[file, "import type { ToolDecision } from '../agent/loop.js'; export type X = ToolDecision;"]]);
    expect(messages.get(join(ROOT, file))).toEqual([]);
  }, 60_000);
});
