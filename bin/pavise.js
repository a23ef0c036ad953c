#!/usr/bin/env node
// Launcher: checks the runtime, then hands over to the bundled CLI (built by `npm run build`).
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  process.stderr.write(
    `pavise: Node ${process.versions.node} is too old; Pavise needs Node 24. Run ./scripts/start.sh, which fetches it into .toolchain/.\n`,
  );
  process.exit(1);
}
// V8 keeps the compiled bundle next to it (dist/.compile-cache, checked against each file's source), so every later
// start skips most of the parse and compile of the CLI and its SDKs. A cache that cannot be written is only slower.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.(new URL('../dist/.compile-cache', import.meta.url).pathname);
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli')) {
    process.stderr.write('pavise: not built yet; run `npm run build` (or ./scripts/start.sh) first.\n');
    process.exit(1);
  }
  throw error;
}
const code = await cli.main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
process.exitCode = code;
