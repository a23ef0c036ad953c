import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/**
 * A fresh Pavise home for each test of the file that calls this (a folder under the system's temp folder, named from
 * `prefix`), and the core composed on it, closed and removed after the test. `home()` makes the folder; `keep(core)`
 * hands the core over to be closed.
 */
export function useTempCore(prefix: string): { home(): string; keep<T extends { close(): void }>(core: T): T } {
  let dir: string | undefined;
  let kept: { close(): void } | undefined;
  afterEach(() => {
    kept?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    kept = undefined;
    dir = undefined;
  });
  return {
    home: () => (dir = mkdtempSync(join(tmpdir(), prefix))),
    keep: (core) => (kept = core),
  };
}
