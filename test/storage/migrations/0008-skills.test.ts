import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../main/storage/migrations/index.js';
import { SkillStore } from '../../../main/storage/skill-store.js';

let dir: string;
let db: BetterSqlite3.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-m0008-'));
  db = new BetterSqlite3(join(dir, 'pavise.db'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('migration 0008-skills', () => {
  it('adds the skills table; a pin, a state change and a removal round-trip through the store', () => {
    migrate(db, 5);
    expect(migrate(db, 8)).toBe(8);
    let now = 1000;
    const store = new SkillStore(db, { now: () => now });
    const pinned = store.pin({ name: 'weather', kind: 'skill', contentHash: 'a'.repeat(64), granted: { network: ['api.open-meteo.com'] }, state: 'enabled', source: '/src/weather' });
    expect(pinned).toEqual({ name: 'weather', kind: 'skill', contentHash: 'a'.repeat(64), granted: { network: ['api.open-meteo.com'] }, state: 'enabled', source: '/src/weather', installedAt: 1000, updatedAt: 1000 });
    now = 2000;
    expect(store.setState('weather', 'changed')).toBe(true);
    expect(store.get('weather')).toMatchObject({ state: 'changed', installedAt: 1000, updatedAt: 2000 });
    store.pin({ name: 'weather', kind: 'skill', contentHash: 'b'.repeat(64), granted: {}, state: 'enabled', source: '/src/weather' });
    expect(store.get('weather')).toMatchObject({ contentHash: 'b'.repeat(64), installedAt: 1000, state: 'enabled' });
    expect(store.remove('weather')).toBe(true);
    expect(store.list()).toEqual([]);
  });

  it('refuses a state or kind the code does not know', () => {
    migrate(db);
    const insert = (kind: string, state: string) =>
      db.prepare(`INSERT INTO skills (name, kind, content_hash, granted_json, state, source, installed_at, updated_at) VALUES ('x', ?, 'h', '{}', ?, 's', 1, 1)`).run(kind, state);
    expect(() => insert('skill', 'trusted')).toThrow(/CHECK constraint/);
    expect(() => insert('plugin', 'enabled')).toThrow(/CHECK constraint/);
  });
});
