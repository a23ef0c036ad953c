// Import boundaries from ARCHITECTURE.md ("Who may import what"), enforced so nobody has to remember them.
//
// In a flat config a later entry's `no-restricted-imports` replaces an earlier one for the files both match, so the
// rule is generated from one table whose `files` never overlap: every file gets exactly one complete list of what
// it must not import. Folders that do not exist yet are covered by their globs already; any other folder of main/
// falls into the `main` row.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const RULE = '@typescript-eslint/no-restricted-imports';
const nodeBuiltins = [...builtinModules.filter((name) => !name.startsWith('_')), 'node:*'];

const ban = (message, ...group) => ({ group, message });
const folders = (...names) => names.map((name) => `**/${name}/**`);

const NO_ELECTRON = ban('main/ runs under plain Node: never import electron.', 'electron', 'electron/*');
const NO_RENDERER = ban('main/ must not import the renderer.', '**/renderer/**');
const MAIN = [NO_ELECTRON, NO_RENDERER];

/** One row per folder; `files` globs are disjoint (checked by test/architecture/boundaries.test.ts). */
export const BOUNDARIES = [
  {
    name: 'main/common',
    files: ['main/common/**/*.ts'],
    forbid: [
      ban('main/common runs everywhere: no Node built-ins.', ...nodeBuiltins),
      ban('main/common must not import electron.', 'electron', 'electron/*'),
      ban('main/common may import only itself and zod.', '../*', '../../*', '**/renderer/**'),
    ],
  },
  {
    name: 'main/agent',
    files: ['main/agent/**/*.ts'],
    forbid: [
      ...MAIN,
      ban(
        'The agent loop is connected through hooks, not imports (ARCHITECTURE.md).',
        ...folders('memory', 'storage', 'permissions', 'channels', 'gateway', 'runtime', 'identity', 'scheduler'),
        '**/tools/**',
        '!**/tools/tool.js',
        '**/services.js',
        '**/compose.js',
      ),
    ],
  },
  {
    name: 'main/permissions',
    files: ['main/permissions/**/*.ts'],
    forbid: [
      ...MAIN,
      // The gate implements the agent's hook types; a type import is no dependency at run time.
      { ...ban('The gate must not import the agent loop.', ...folders('agent')), allowTypeImports: true },
      ban('The gate must not import channels, the gateway or the runtime.', ...folders('channels', 'gateway', 'runtime', 'scheduler'), '**/services.js', '**/compose.js'),
    ],
  },
  {
    name: 'main/channels',
    files: ['main/channels/**/*.ts'],
    forbid: [
      ...MAIN,
      ban(
        'Channels must not import the agent, the gateway, the runtime, storage, permissions or tools.',
        ...folders('agent', 'gateway', 'runtime', 'scheduler', 'storage', 'memory', 'permissions', 'tools'),
        '**/services.js',
        '**/compose.js',
      ),
    ],
  },
  {
    name: 'main/tools and main/skills',
    files: ['main/tools/**/*.ts', 'main/skills/**/*.ts'],
    forbid: [
      ...MAIN,
      ban('Tools and skills must not import the agent, the gateway, the runtime or channels.', ...folders('agent', 'gateway', 'runtime', 'scheduler', 'channels'), '**/services.js', '**/compose.js'),
    ],
  },
  {
    name: 'main/memory and main/storage',
    files: ['main/memory/**/*.ts', 'main/storage/**/*.ts'],
    forbid: [
      ...MAIN,
      ban('Storage and memory must not import the gateway, the runtime or channels.', ...folders('gateway', 'runtime', 'scheduler', 'channels'), '**/services.js', '**/compose.js'),
    ],
  },
  {
    name: 'main/runtime',
    files: ['main/runtime/**/*.ts'],
    forbid: [...MAIN, ban("The runtime must not import the gateway's or the scheduler's internals.", ...folders('gateway', 'scheduler'))],
  },
  {
    name: 'main/gateway',
    files: ['main/gateway/**/*.ts'],
    forbid: [...MAIN, ban("The gateway must not import the scheduler's internals.", ...folders('scheduler'))],
  },
  {
    name: 'main/scheduler',
    files: ['main/scheduler/**/*.ts'],
    forbid: [...MAIN, ban("The scheduler must not import the gateway's internals.", ...folders('gateway'))],
  },
  {
    name: 'main (compose.ts, cli, app, audit, config, identity, llm, persona, platform, secrets, calendar and any other folder)',
    files: ['main/**/*.ts'],
    forbid: MAIN,
  },
  {
    name: 'electron/preload',
    files: ['electron/preload*.ts', 'electron/preload/**/*.ts'],
    forbid: [
      ban('The preload may import only electron and main/common.', '**/main/*', '!**/main/common', '**/main/*/**', '!**/main/common/**', '**/renderer/**'),
      ban('The preload runs sandboxed: no Node built-ins.', ...nodeBuiltins),
    ],
  },
  {
    name: 'electron',
    files: ['electron/**/*.ts'],
    forbid: [ban('electron/ must not import the renderer.', '**/renderer/**')],
  },
  {
    name: 'renderer',
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    forbid: [
      ban('The renderer talks only to window.pavise.', 'electron', 'electron/*'),
      ban('The renderer has no Node built-ins.', ...nodeBuiltins),
      ban('The renderer may import only main/common from main/.', '**/main/*', '!**/main/common', '**/main/*/**', '!**/main/common/**'),
    ],
  },
  {
    name: 'skills',
    files: ['skills/**/*.ts'],
    forbid: [
      ban('Skills never import electron.', 'electron', 'electron/*'),
      ban('Skills may import only the skill SDK from main/skills.', '**/main/*', '!**/main/skills', '**/main/*/**', '!**/main/skills/sdk*'),
    ],
  },
];

/** Each row applies to its files minus those of every earlier row, so a more specific row must come first. */
function boundaryEntries() {
  return BOUNDARIES.map((row, index) => {
    const earlier = BOUNDARIES.slice(0, index).flatMap((other) => other.files);
    return {
      name: `boundaries: ${row.name}`,
      files: row.files,
      ...(earlier.length > 0 ? { ignores: earlier } : {}),
      rules: { [RULE]: ['error', { patterns: row.forbid }] },
    };
  });
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.toolchain/**', 'coverage/**', 'renderer/dist/**'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-debugger': 'error',
    },
  },
  ...boundaryEntries(),
);
