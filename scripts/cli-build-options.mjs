// The esbuild options of the CLI bundle (`pavise`, the headless gateway), shared by scripts/build.mjs and the
// start-path test (test/architecture/start-path.test.ts), which checks what a command loads before it runs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NODE_SHIMS } from './node-shims.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function cliBuildOptions() {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return {
    absWorkingDir: ROOT,
    entryPoints: { main: 'main/cli/main.ts' },
    outdir: 'dist/cli',
    bundle: true,
    // Commands and heavy modules are imported on demand, each into its own chunk.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    sourcemap: 'linked',
    // Smaller code parses faster: start-up is a measured target (bench/startup).
    minify: true,
    keepNames: true,
    // playwright-core (browse) is loaded from node_modules at the first browse, never bundled.
    external: ['better-sqlite3', '@napi-rs/keyring', 'electron', 'playwright-core'],
    alias: NODE_SHIMS,
    define: { PAVISE_VERSION: JSON.stringify(pkg.version) },
    // Bundled CommonJS dependencies may call require(); give ESM chunks one.
    banner: { js: "import { createRequire as __paviseCreateRequire } from 'node:module'; const require = __paviseCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  };
}
