import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../main/config/config.js';
import { ChannelStore } from '../../main/storage/channel-store.js';
import { roleOf } from '../../main/identity/roles.js';
import { openDatabase, type Database } from '../../main/storage/database.js';

/** Failure 3: a number from another country was taken for the owner because only the last ten digits were compared. */
let dir: string;
let db: Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-handles-'));
  db = openDatabase(join(dir, 'pavise.db'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('owner handles from another country are strangers', () => {
  it.each([
    ['+15550001111', '+445550001111'],
    ['+447737345678', '+17737345678'],
    ['+15550001111', '+15550001112'],
    ['+15550001111', '+155500011111'],
  ])('owner %s, sender %s', (owner, sender) => {
    const config = parseConfig(JSON.stringify({ channels: { imessage: { owners: [owner] } } }));
    const store = new ChannelStore(db);
    expect(roleOf(config, store, 'imessage', sender)).toBe('stranger');
    expect(roleOf(config, store, 'imessage', owner.replace(/^\+1/, '+1 ').replace(/^\+44/, '+44 '))).toBe('owner');
  });

  it('a paired Telegram owner id is not matched by a username or a look-alike', () => {
    const config = parseConfig('{}');
    const store = new ChannelStore(db);
    store.addIdentity('telegram', '424242', 'owner', 'pairing-code');
    expect(roleOf(config, store, 'telegram', '424242')).toBe('owner');
    expect(roleOf(config, store, 'telegram', '@424242')).toBe('stranger');
    expect(roleOf(config, store, 'telegram', '\uFF14\uFF12\uFF14\uFF12\uFF14\uFF12')).toBe('stranger');
  });

  it('a number written without a country code is read in the owner’s region', () => {
    const config = parseConfig(JSON.stringify({ owner: { region: 'GB' }, channels: { imessage: { owners: ['07737 345678'] } } }));
    const store = new ChannelStore(db);
    expect(roleOf(config, store, 'imessage', '+447737345678')).toBe('owner');
    expect(roleOf(config, store, 'imessage', '+17737345678')).toBe('stranger');
  });
});
