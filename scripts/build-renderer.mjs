#!/usr/bin/env node
// Builds the renderer (renderer/popover.html, renderer/settings.html) with Vite's JS API into dist/renderer/, with
// relative asset paths for Electron's app:// protocol, and reports the gzipped JavaScript each page loads.
//
//   node scripts/build-renderer.mjs               → dist/renderer
//   node scripts/build-renderer.mjs --out DIR     → DIR (tests build into their own directory)
//   node scripts/build-renderer.mjs --quiet       → no size report
//   node scripts/build-renderer.mjs --json        → the sizes as one JSON object on stdout
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUT_DIR = join(ROOT, 'dist/renderer');

/** Builds into `outDir`; answers the gzipped JS size of each page. */
export async function buildRenderer({ outDir = DEFAULT_OUT_DIR } = {}) {
  const [{ build }, { default: react }] = await Promise.all([import('vite'), import('@vitejs/plugin-react')]);
  await build({
    configFile: false,
    root: join(ROOT, 'renderer'),
    base: './',
    mode: 'production',
    logLevel: 'warn',
    clearScreen: false,
    plugins: [react()],
    build: {
      outDir,
      emptyOutDir: true,
      target: 'chrome130',
      // Module preloading is native in Chromium; the polyfill would be dead code.
      modulePreload: { polyfill: false },
      sourcemap: false,
      reportCompressedSize: false,
      assetsInlineLimit: 0,
      rollupOptions: {
        input: {
          popover: join(ROOT, 'renderer/popover.html'),
          settings: join(ROOT, 'renderer/settings.html'),
        },
      },
    },
  });
  return { outDir, popover: pageJsSize(outDir, 'popover.html'), settings: pageJsSize(outDir, 'settings.html') };
}

/** The JavaScript a page loads at start (its module script and the chunks it preloads), raw and gzipped. */
export function pageJsSize(outDir, page) {
  const html = readFileSync(join(outDir, page), 'utf8');
  const files = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*\brel="modulepreload"[^>]*\bhref)="([^"]+\.js)"/g)].map((match) => match[1]);
  let bytes = 0;
  let gzipBytes = 0;
  for (const file of new Set(files)) {
    const content = readFileSync(join(outDir, file));
    bytes += content.length;
    gzipBytes += gzipSync(content, { level: 9 }).length;
  }
  return { files: [...new Set(files)], bytes, gzipBytes };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const outDir = outIndex >= 0 ? resolve(args[outIndex + 1] ?? '') : DEFAULT_OUT_DIR;
  const started = performance.now();
  const result = await buildRenderer({ outDir });
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
  else if (!args.includes('--quiet')) {
    const kb = (value) => `${(value / 1024).toFixed(1)} KB`;
    process.stderr.write(
      `renderer: built ${outDir} in ${Math.round(performance.now() - started)} ms — popover JS ${kb(result.popover.gzipBytes)} gzipped (${kb(result.popover.bytes)}), settings JS ${kb(result.settings.gzipBytes)} gzipped (${kb(result.settings.bytes)})\n`,
    );
  }
}
