// Bundles the CLI (and later the Electron main) with esbuild (options in cli-build-options.mjs). Native modules stay
// external: they load from node_modules at run time. Code splitting keeps `--help` from loading the providers' SDKs.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { cliBuildOptions } from './cli-build-options.mjs';

rmSync(new URL('../dist/cli', import.meta.url), { recursive: true, force: true });

await build(cliBuildOptions());

// The menu-bar shell and its UI, built from the same sources (Electron itself runs only on a Mac).
const { buildElectron } = await import('./build-electron.mjs');
await buildElectron();
const { buildRenderer } = await import('./build-renderer.mjs');
await buildRenderer();
