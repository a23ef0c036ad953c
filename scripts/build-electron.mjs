// Builds the Electron shell into dist/electron/ and draws the tray's template images into assets/.
//   main.js      the main process: ESM (package.json has "type": "module"), code-split so the providers' SDKs
//                load only when a model is first called. Native modules and electron stay external.
//   preload.cjs  the preload: sandboxed preloads must be one CommonJS file; built for the browser platform, so a
//                Node built-in slipping into it fails the build instead of failing at run time.
// Run it directly (`node scripts/build-electron.mjs`) or `await buildElectron()` from scripts/build.mjs.
import { build } from 'esbuild';
import { NODE_SHIMS } from './node-shims.mjs';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Externals of the main bundle: electron itself, the N-API modules electron-builder ships unpacked, and playwright-core (browse, imported at its first call). */
export const MAIN_EXTERNALS = ['electron', 'better-sqlite3', '@napi-rs/keyring', 'playwright-core'];

export async function buildElectron({ root = ROOT } = {}) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const outdir = join(root, 'dist', 'electron');
  rmSync(outdir, { recursive: true, force: true });
  writeTrayIcons(join(root, 'assets'));
  const [main, preload] = await Promise.all([
    build({
      absWorkingDir: root,
      entryPoints: { main: 'electron/main.ts' },
      outdir,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      chunkNames: 'chunks/[name]-[hash]',
      sourcemap: 'linked',
      minify: true,
      keepNames: true,
      external: MAIN_EXTERNALS,
      alias: NODE_SHIMS,
      define: { PAVISE_VERSION: JSON.stringify(pkg.version) },
      // Bundled CommonJS dependencies may call require(); give the ESM chunks one.
      banner: { js: "import { createRequire as __paviseCreateRequire } from 'node:module'; const require = __paviseCreateRequire(import.meta.url);" },
      metafile: true,
      logLevel: 'warning',
    }),
    build({
      absWorkingDir: root,
      entryPoints: ['electron/preload.ts'],
      outfile: join(outdir, 'preload.cjs'),
      bundle: true,
      format: 'cjs',
      platform: 'browser',
      target: 'chrome130',
      minify: true,
      external: ['electron'],
      metafile: true,
      logLevel: 'warning',
    }),
  ]);
  /** What each bundle imports at run time (externals), for the tests and for review. */
  const externals = (result) => [...new Set(Object.values(result.metafile.outputs).flatMap((output) => output.imports.filter((item) => item.external).map((item) => item.path)))].sort();
  return { outdir, externals: { main: externals(main), preload: externals(preload) } };
}

// ---------------------------------------------------------------------------------------------------------------
// Tray template images: black shapes on a clear background, drawn here so they are reproducible and reviewable.
// 18 × 18 pt (the menu-bar icon size) at @1x and @2x. A turtle seen from above: head, four feet and the pavise,
// whose centre scute carries the state.
//   idle      shell outline, scute outline     working   scute filled
//   approval  shell solid, scute cut out        paused    two pause bars instead of the scute

const SIZE = 18;
const C = 9;

const ellipse = (x, y, cx, cy, rx, ry) => (Math.hypot((x - cx) / rx, (y - cy) / ry) - 1) * Math.min(rx, ry);
const roundedBox = (x, y, cx, cy, hx, hy, r) => {
  const qx = Math.abs(x - cx) - hx + r;
  const qy = Math.abs(y - cy) - hy + r;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
};
const hexagon = (x, y, cx, cy, r) => {
  // A regular hexagon with a vertex at the top and bottom: the larger of its two slab distances.
  const px = Math.abs(x - cx);
  const py = Math.abs(y - cy);
  const apothem = (r * Math.sqrt(3)) / 2;
  return Math.max(px - apothem, px * 0.5 + py * (Math.sqrt(3) / 2) - apothem);
};
const stroke = (d, width) => Math.abs(d) - width / 2;
const union = (...ds) => Math.min(...ds);

const LINE = 1.5;
const SHELL = { cx: C, cy: 9.9, rx: 5.3, ry: 6 };
const shell = (x, y) => ellipse(x, y, SHELL.cx, SHELL.cy, SHELL.rx, SHELL.ry);
const segment = (x, y, ax, ay, bx, by) => {
  const [px, py, dx, dy] = [x - ax, y - ay, bx - ax, by - ay];
  const t = Math.min(Math.max((px * dx + py * dy) / (dx * dx + dy * dy), 0), 1);
  return Math.hypot(px - dx * t, py - dy * t);
};
/** Head, four feet and a tail, growing out of the shell (filled; the shell's inside stays clear). */
const body = (x, y) => {
  const head = ellipse(x, y, C, 2.3, 1.9, 2.0);
  const feet = [
    [-1, -1],
    [1, -1],
    [-1, 1],
    [1, 1],
  ].map(([sx, sy]) => segment(x, y, C + sx * 3.6, SHELL.cy + sy * 3.6, C + sx * 7.1, SHELL.cy + sy * (sy < 0 ? 5.6 : 6.1)) - 1.15);
  const tail = segment(x, y, C, SHELL.cy + 5.5, C, 17.2) - 0.7;
  return Math.max(union(head, ...feet, tail), -shell(x, y));
};
const scute = (x, y) => hexagon(x, y, SHELL.cx, SHELL.cy, 2.7);
const bars = (x, y) => union(roundedBox(x, y, 7, 10, 1, 2.75, 0.4), roundedBox(x, y, 11, 10, 1, 2.75, 0.4));
const outline = (x, y) => union(stroke(shell(x, y), LINE), body(x, y));

/** Each state as a signed distance (negative = ink) in an 18 × 18 space. */
export const TRAY_SHAPES = {
  trayTemplate: (x, y) => union(outline(x, y), stroke(scute(x, y), 1.2)),
  trayWorkingTemplate: (x, y) => union(outline(x, y), scute(x, y)),
  trayApprovalTemplate: (x, y) => union(Math.max(shell(x, y) - LINE / 2, -stroke(scute(x, y), 1.2)), body(x, y)),
  trayPausedTemplate: (x, y) => union(outline(x, y), bars(x, y)),
};

/** Coverage by 4 × 4 supersampling: anti-aliased edges without a rasteriser. */
export function renderShape(shape, scale) {
  const side = SIZE * scale;
  const n = 4;
  const alpha = new Uint8Array(side * side);
  for (let py = 0; py < side; py++) {
    for (let px = 0; px < side; px++) {
      let inside = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          if (shape((px + (sx + 0.5) / n) / scale, (py + (sy + 0.5) / n) / scale) <= 0) inside++;
        }
      }
      alpha[py * side + px] = Math.round((inside / (n * n)) * 255);
    }
  }
  return { width: side, height: side, alpha };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A minimal PNG encoder: 8-bit RGBA, black with the given alpha, no filtering. */
export function encodePng({ width, height, alpha }) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const raw = Buffer.alloc(height * (1 + width * 4));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 4);
    for (let x = 0; x < width; x++) raw[row + 1 + x * 4 + 3] = alpha[y * width + x];
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Writes `<name>.png` (18 px) and `<name>@2x.png` (36 px) for every tray state. Deterministic. */
export function writeTrayIcons(dir) {
  mkdirSync(dir, { recursive: true });
  const written = [];
  for (const [name, shape] of Object.entries(TRAY_SHAPES)) {
    for (const scale of [1, 2]) {
      const file = join(dir, `${name}${scale === 2 ? '@2x' : ''}.png`);
      const png = encodePng(renderShape(shape, scale));
      // Committed files are rewritten only when the drawing changed.
      if (!existsSync(file) || !readFileSync(file).equals(png)) writeFileSync(file, png);
      written.push(file);
    }
  }
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildElectron();
}
