#!/usr/bin/env node
// `npm run screenshots`: builds the renderer, then bundles test/renderer/screenshots.ts (it drives a real core and
// headless Chromium through test/renderer/bridge.ts) and runs it. Writes docs/screenshots/*-light.png and
// *-dark.png at device scale 2. Chromium: /usr/bin/chromium, or PAVISE_CHROMIUM.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildRenderer, DEFAULT_OUT_DIR } from './build-renderer.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { popover } = await buildRenderer();
process.stderr.write(`screenshots: renderer built (popover JS ${(popover.gzipBytes / 1024).toFixed(1)} KB gzipped)\n`);

// Bundled into dist/screenshots/ so paths the fakes resolve relative to their own file still land in this checkout.
const entry = join(ROOT, 'dist/screenshots/screenshots.mjs');
await build({
  entryPoints: [join(ROOT, 'test/renderer/screenshots.ts')],
  outfile: entry,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  logLevel: 'warning',
});
const result = spawnSync(process.execPath, [entry, DEFAULT_OUT_DIR], { stdio: 'inherit', cwd: ROOT });
process.exitCode = result.status ?? 1;
