import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../main/config/config.js';
import { roleOf } from '../../main/identity/roles.js';
import { ChannelStore } from '../../main/storage/channel-store.js';
import { openDatabase, type Database } from '../../main/storage/database.js';

let dir: string;
let db: Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-roles-'));
  db = openDatabase(join(dir, 'pavise.db'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The owners' canonical forms are kept between messages; a changed owner list or region must still be honoured. */
describe('roleOf with owner lists that change', () => {
  it('follows owners added, removed and rewritten in place, and a new region', () => {
    const config = parseConfig(JSON.stringify({ channels: { imessage: { owners: ['+15550001111'] } } }));
    const store = new ChannelStore(db);
    const owners = config.channels.imessage.owners as string[];
    expect(roleOf(config, store, 'imessage', '+1 555 000 1111')).toBe('owner');
    expect(roleOf(config, store, 'imessage', '+15550002222')).toBe('stranger');

    owners.push('+15550002222');
    expect(roleOf(config, store, 'imessage', '+15550002222')).toBe('owner');
    owners.splice(0, 1);
    expect(roleOf(config, store, 'imessage', '+15550001111')).toBe('stranger');
    owners[0] = '07737 345678';
    // Written without a country code: read in the region, which here comes from no owner, so the US.
    expect(roleOf(config, store, 'imessage', '+447737345678')).toBe('stranger');
    const british = parseConfig(JSON.stringify({ owner: { region: 'GB' }, channels: { imessage: { owners: ['07737 345678'] } } }));
    expect(roleOf(british, store, 'imessage', '+447737345678')).toBe('owner');
    expect(roleOf(config, store, 'imessage', '+447737345678')).toBe('stranger');
  });

  it('keeps each channel’s owners apart', () => {
    const config = parseConfig(JSON.stringify({ channels: { imessage: { owners: ['+15550001111'] }, telegram: { owners: [42] } } }));
    const store = new ChannelStore(db);
    expect(roleOf(config, store, 'telegram', '42')).toBe('owner');
    expect(roleOf(config, store, 'imessage', '+15550001111')).toBe('owner');
    expect(roleOf(config, store, 'telegram', '+15550001111')).toBe('stranger');
    expect(roleOf(config, store, 'imessage', '42')).toBe('stranger');
  });
});
