import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { openStorage, type Storage } from '../../main/storage/storage.js';

/**
 * A fresh Pavise database for each test of the file that calls this (in its own folder under the system's temp
 * folder, named from `prefix`), closed and removed after the test. Returns the current test's storage.
 */
export function useTempStorage(prefix: string): () => Storage {
  let dir: string | undefined;
  let storage: Storage | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    storage = openStorage(join(dir, 'pavise.db'), { grantTargetOf: () => '' });
  });
  afterEach(() => {
    storage?.close();
    storage = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!storage) throw new Error('useTempStorage: the storage exists only while a test runs.');
    return storage;
  };
}
