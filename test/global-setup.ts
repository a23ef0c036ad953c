import { execFileSync } from 'node:child_process';

/**
 * End-to-end tests drive the built `pavise` binary, so the bundle is rebuilt once per run.
 * PAVISE_TEST_NO_BUILD=1 skips it when iterating on unit tests.
 */
export default function setup(): void {
  if (process.env.PAVISE_TEST_NO_BUILD === '1') return;
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
