import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compose } from '../../main/compose.js';
import { ACTIVITY_KEY_NAME, ActivityKeyError, ActivityLog } from '../../main/permissions/activity-log.js';
import { ActivityRows } from '../../main/storage/activity-rows.js';
import { openDatabase, type Database } from '../../main/storage/database.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';

const dirs: string[] = [];
const dbs: Database[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pavise-activity-'));
  dirs.push(dir);
  return dir;
}

/** A log of three rows whose key is then lost, as a keyring that lasted one command loses it. */
async function logWithLostKey(): Promise<{ db: Database; rows: ActivityRows }> {
  const db = openDatabase(join(tempDir(), 'pavise.db'));
  dbs.push(db);
  const rows = new ActivityRows(db);
  const first = await ActivityLog.open(rows, new MemorySecretStore());
  for (const summary of ['Paused', 'Resumed', 'Ran ls']) first.append({ kind: 'system', summary, actor: 'owner:cli' });
  return { db, rows };
}

describe('activity log whose key is lost', () => {
  it('refuses to start by default: the log cannot be verified or extended', async () => {
    const { rows } = await logWithLostKey();
    await expect(ActivityLog.open(rows, new MemorySecretStore())).rejects.toThrow(ActivityKeyError);
  });

  it('with a keyring known not to last, goes on under a new key, says so first, and verifies from there', async () => {
    const { rows } = await logWithLostKey();
    const secrets = new MemorySecretStore();
    const log = await ActivityLog.open(rows, secrets, { newKeyWhenLost: true });
    expect(secrets.values.get(ACTIVITY_KEY_NAME)).toBeTruthy();
    log.append({ kind: 'pause', summary: 'Paused', actor: 'owner:cli' });
    const restart = log.list().find((row) => row.id === 4);
    expect(restart?.summary).toContain('Rows 1–3 are kept but can no longer be verified');
    expect(log.verify()).toEqual({ ok: true, count: 5, unverifiable: 3 });
    // The next command's keyring has lost this key too. A command that only reads adds no row, and can check none.
    const reader = await ActivityLog.open(rows, new MemorySecretStore(), { newKeyWhenLost: true });
    expect(reader.verify()).toEqual({ ok: true, count: 5, unverifiable: 5 });
    expect(rows.count()).toBe(5);
    // One that writes goes on again, from the newest restart.
    const writer = await ActivityLog.open(rows, new MemorySecretStore(), { newKeyWhenLost: true });
    writer.append({ kind: 'resume', summary: 'Resumed', actor: 'owner:cli' });
    expect(writer.verify()).toEqual({ ok: true, count: 7, unverifiable: 5 });
    expect(writer.list().at(-2)?.summary).toContain('Rows 1–5 are kept');
  });

  it('still catches an edit, a deletion or a cut after the new key, and a restart row forged without the key', async () => {
    const edited = await logWithLostKey();
    const editedLog = await ActivityLog.open(edited.rows, new MemorySecretStore(), { newKeyWhenLost: true });
    editedLog.append({ kind: 'system', summary: 'Ran rm -rf ~/Notes', actor: 'owner:cli' });
    edited.db.prepare("UPDATE activity SET summary = 'Ran ls' WHERE id = 5").run();
    expect(editedLog.verify()).toMatchObject({ ok: false, badRowId: 5 });

    const cut = await logWithLostKey();
    const cutLog = await ActivityLog.open(cut.rows, new MemorySecretStore(), { newKeyWhenLost: true });
    cutLog.append({ kind: 'system', summary: 'Sent 40 messages', actor: 'pavise' });
    cut.db.prepare('DELETE FROM activity WHERE id = 5').run();
    expect(cutLog.verify()).toMatchObject({ ok: false });

    // Someone without the key appends a row that claims a restart: it is not one, and the chain breaks there.
    const forged = await logWithLostKey();
    const forgedLog = await ActivityLog.open(forged.rows, new MemorySecretStore(), { newKeyWhenLost: true });
    forgedLog.append({ kind: 'system', summary: 'Ran ls', actor: 'owner:cli' });
    forged.db
      .prepare("INSERT INTO activity (id, ts, kind, session_id, tool, summary, decision, actor, detail_json, mac) VALUES (6, 0, 'system', NULL, NULL, 'new key', NULL, 'pavise', ?, ?)")
      .run(JSON.stringify({ newActivityKey: { unverifiableThrough: 5 } }), 'f'.repeat(64));
    expect(forgedLog.verify()).toMatchObject({ ok: false, badRowId: 6 });
  });

  it('Pavise started twice on a Linux box whose keyring lasts one command: the second start works and the log verifies from its restart', async () => {
    const home = tempDir();
    const env = { PAVISE_HOME: home, PAVISE_KEYRING_EPHEMERAL: '1' };
    const start = (secrets: MemorySecretStore) => compose({ env, platform: 'linux', secrets, calendar: false });
    const first = await start(new MemorySecretStore());
    first.activity.append({ kind: 'pause', summary: 'Paused', actor: 'owner:cli' });
    await first.close();
    const second = await start(new MemorySecretStore());
    try {
      expect(second.activity.verify()).toMatchObject({ ok: true, unverifiable: 1 });
    } finally {
      await second.close();
    }
    // The flag means nothing on a Mac, whose Keychain lasts: a lost key there stops Pavise, as before.
    await expect(compose({ env, platform: 'darwin', secrets: new MemorySecretStore(), calendar: false })).rejects.toThrow(ActivityKeyError);
  });
});
