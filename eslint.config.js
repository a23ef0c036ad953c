// Import boundaries from ARCHITECTURE.md ("Who may import what"), enforced so nobody has to remember them.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules.filter((name) => !name.startsWith('_')), 'node:*'];
const restrict = (...patterns) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map((p) => (typeof p === 'string' ? { group: [p] } : p)) }],
});

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
  {
    files: ['main/common/**/*.ts'],
    rules: restrict(
      { group: nodeBuiltins, message: 'main/common runs everywhere: no Node built-ins.' },
      { group: ['electron'], message: 'main/common must not import electron.' },
      { group: ['../*', '../../*'], message: 'main/common may import only itself and zod.' },
    ),
  },
  {
    files: ['main/**/*.ts'],
    ignores: ['main/common/**'],
    rules: restrict(
      { group: ['electron', 'electron/*'], message: 'main/ runs under plain Node: never import electron.' },
      { group: ['**/renderer/**'], message: 'main/ must not import the renderer.' },
    ),
  },
  {
    files: ['main/agent/**/*.ts'],
    rules: restrict(
      { group: ['electron', 'electron/*'], message: 'main/ runs under plain Node: never import electron.' },
      {
        group: ['**/memory/**', '**/permissions/**', '**/channels/**', '**/gateway/**', '**/services.js'],
        message: 'The agent loop is connected through hooks, not imports (ARCHITECTURE.md).',
      },
    ),
  },
  {
    files: ['main/channels/**/*.ts'],
    rules: restrict(
      { group: ['electron', 'electron/*'], message: 'main/ runs under plain Node: never import electron.' },
      { group: ['**/agent/**', '**/gateway/**'], message: 'Channels must not import the agent or the gateway.' },
    ),
  },
  {
    files: ['electron/**/*.ts'],
    rules: restrict({ group: ['**/renderer/**'], message: 'electron/ must not import the renderer.' }),
  },
  {
    files: ['electron/preload*.ts', 'electron/preload/**/*.ts'],
    rules: restrict(
      { group: ['../main/*', '!../main/common', '../main/*/**', '!../main/common/**'], message: 'The preload may import only electron and main/common.' },
      { group: nodeBuiltins, message: 'The preload runs sandboxed: no Node built-ins.' },
    ),
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: restrict(
      { group: ['electron', 'electron/*'], message: 'The renderer talks only to window.pavise.' },
      { group: nodeBuiltins, message: 'The renderer has no Node built-ins.' },
      { group: ['**/main/*', '!**/main/common', '**/main/*/**', '!**/main/common/**'], message: 'The renderer may import only main/common from main/.' },
    ),
  },
  {
    files: ['skills/**/*.ts'],
    rules: restrict(
      { group: ['electron', 'electron/*'], message: 'Skills never import electron.' },
      { group: ['**/main/*', '!**/main/skills', '**/main/*/**', '!**/main/skills/sdk*'], message: 'Skills may import only the skill SDK from main/skills.' },
    ),
  },
);
