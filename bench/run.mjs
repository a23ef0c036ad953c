#!/usr/bin/env node
// `npm run bench -- NAME`: bundles bench/NAME.ts (it may import the test fakes) and runs it inside a private
// keyring session; the benchmark prints one JSON object on stdout.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { build } from 'esbuild';

const name = process.argv[2];
const available = readdirSync(new URL('.', import.meta.url)).filter((file) => file.endsWith('.bench.ts')).map((file) => file.replace('.bench.ts', ''));
if (!name || !available.includes(name)) {
  process.stderr.write(`Usage: npm run bench -- NAME   (one of: ${available.join(', ')})\n`);
  process.exit(2);
}
if (!existsSync(new URL('../dist/cli/main.js', import.meta.url))) {
  process.stderr.write('bench: build first (npm run build).\n');
  process.exit(1);
}

// Bundled into dist/bench/. The helpers and fakes find their fixtures and bin/ relative to their own file, so each
// source file's `import.meta.dirname` is fixed to that file's folder in this checkout (the bundle lives elsewhere).
const sourceDirname = {
  name: 'source-dirname',
  setup(builder) {
    builder.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path))),
      loader: 'ts',
    }));
  },
};
{
  const entry = new URL(`../dist/bench/${name}.mjs`, import.meta.url).pathname;
  await build({
    entryPoints: [new URL(`./${name}.bench.ts`, import.meta.url).pathname],
    outfile: entry,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    packages: 'external',
    logLevel: 'warning',
    plugins: [sourceDirname],
  });
  const result = spawnSync('bash', ['scripts/with-keyring.sh', '--isolated', process.execPath, entry, ...process.argv.slice(3)], {
    stdio: 'inherit',
    cwd: new URL('..', import.meta.url).pathname,
  });
  process.exitCode = result.status ?? 1;
}
