import type { Migration } from './migration.js';

/** Placeholder for the memory-items migration of the mem-recall branch; replaced by that branch's file on merge. */
export const migration0006: Migration = {
  version: 6,
  name: 'memory',
  up(): void {},
};
