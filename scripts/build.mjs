// Bundles the CLI (and later the Electron main) with esbuild. Native modules stay external: they load from
// node_modules at run time. Code splitting keeps `--help` from loading the providers' SDKs.
import { build } from 'esbuild';
import { NODE_SHIMS } from './node-shims.mjs';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist/cli', import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: { main: 'main/cli/main.ts' },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  sourcemap: 'linked',
  // Smaller code parses faster: start-up is a measured target (bench/startup).
  minify: true,
  keepNames: true,
  external: ['better-sqlite3', '@napi-rs/keyring', 'electron'],
  alias: NODE_SHIMS,
  define: { PAVISE_VERSION: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies may call require(); give ESM chunks one.
  banner: { js: "import { createRequire as __paviseCreateRequire } from 'node:module'; const require = __paviseCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

// The menu-bar shell and its UI, built from the same sources (Electron itself runs only on a Mac).
const { buildElectron } = await import('./build-electron.mjs');
await buildElectron();
const { buildRenderer } = await import('./build-renderer.mjs');
await buildRenderer();
