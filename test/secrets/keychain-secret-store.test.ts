import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { KeychainSecretStore, SecretStoreError, keychainServiceFor } from '../../main/secrets/keychain-secret-store.js';

/*
 * These run against the real credential store: the Secret Service on Linux (scripts/test.sh provides a private
 * D-Bus session with an unlocked throwaway gnome-keyring), the login Keychain on macOS. Every service name is unique
 * to the run, and everything created is deleted afterwards.
 *
 * Outside scripts/test.sh on a Linux machine with no D-Bus session they are skipped; under scripts/test.sh
 * (PAVISE_TEST_KEYRING=1) a missing keyring is a failure, never a skip.
 */
const keyringProvided = process.env.PAVISE_TEST_KEYRING === '1';
const available =
  keyringProvided ||
  process.platform === 'darwin' ||
  (process.platform === 'linux' && Boolean(process.env.DBUS_SESSION_BUS_ADDRESS));

const run = `${process.pid}-${randomUUID().slice(0, 8)}`;
const created: KeychainSecretStore[] = [];

function freshStore(label = 'a'): KeychainSecretStore {
  const store = new KeychainSecretStore(`Pavise test ${run} ${label}`);
  created.push(store);
  return store;
}

afterAll(async () => {
  if (!available) return;
  for (const store of created) {
    for (const name of await store.list()) await store.delete(name);
  }
});

describe('keychainServiceFor', () => {
  it('keeps the plain name for the default home and isolates every other home', () => {
    expect(keychainServiceFor('/home/me/.local/share/pavise', '/home/me/.local/share/pavise')).toBe('Pavise');
    expect(keychainServiceFor('/tmp/test-home', '/home/me/.local/share/pavise')).toBe('Pavise (/tmp/test-home)');
  });
});

describe('KeychainSecretStore: validation before any keyring call', () => {
  const store = new KeychainSecretStore('Pavise test never-used');

  it.each(['', 'Anthropic', 'has space', '../x', '-leading-dash', 'a'.repeat(65), 'ключ'])(
    'rejects the name %j',
    async (name) => {
      await expect(store.set(name, 'value')).rejects.toThrow(SecretStoreError);
      await expect(store.get(name)).rejects.toThrow(/not a valid secret name/);
      await expect(store.delete(name)).rejects.toThrow(SecretStoreError);
    },
  );

  it('refuses an empty value', async () => {
    await expect(store.set('anthropic', '')).rejects.toThrow(/empty/);
  });

  it('refuses an empty service name', () => {
    expect(() => new KeychainSecretStore('')).toThrow(SecretStoreError);
  });
});

describe.runIf(available)('KeychainSecretStore against the real credential store', () => {
  it('round-trips set, get, list and delete', async () => {
    const store = freshStore('round-trip');
    expect(await store.get('anthropic')).toBeUndefined();
    await store.set('anthropic', 'FAKE-anthropic-value-for-tests');
    expect(await store.get('anthropic')).toBe('FAKE-anthropic-value-for-tests');
    expect(await store.list()).toEqual(['anthropic']);
    expect(await store.delete('anthropic')).toBe(true);
    expect(await store.get('anthropic')).toBeUndefined();
    expect(await store.list()).toEqual([]);
  });

  it('lists names only, sorted', async () => {
    const store = freshStore('list');
    await store.set('telegram.bot', 'value-telegram');
    await store.set('anthropic', 'value-anthropic');
    await store.set('openai', 'value-openai');
    const names = await store.list();
    expect(names).toEqual(['anthropic', 'openai', 'telegram.bot']);
    expect(JSON.stringify(names)).not.toContain('value-');
  });

  it('keeps a unicode value exactly', async () => {
    const store = freshStore('unicode');
    const value = 'clé-секрет-鍵-🔑-\u00e9\u0301 with spaces';
    await store.set('unicode', value);
    expect(await store.get('unicode')).toBe(value);
  });

  it('overwrites a value in place', async () => {
    const store = freshStore('overwrite');
    await store.set('openai', 'first');
    await store.set('openai', 'second');
    expect(await store.get('openai')).toBe('second');
    expect(await store.list()).toEqual(['openai']);
  });

  it('reports false when deleting a secret that does not exist', async () => {
    const store = freshStore('delete-missing');
    expect(await store.delete('never-stored')).toBe(false);
  });

  it('keeps entries, never values: a change made through another store (another process) is read at once', async () => {
    const reader = freshStore('kept');
    const writer = new KeychainSecretStore(reader.service);
    expect(await reader.get('telegram-bot-token')).toBeUndefined();
    await writer.set('telegram-bot-token', 'first');
    expect(await reader.get('telegram-bot-token')).toBe('first');
    await writer.set('telegram-bot-token', 'second');
    expect(await reader.get('telegram-bot-token')).toBe('second');
    expect(await writer.delete('telegram-bot-token')).toBe(true);
    expect(await reader.get('telegram-bot-token')).toBeUndefined();
    await reader.set('telegram-bot-token', 'third');
    expect(await writer.get('telegram-bot-token')).toBe('third');
  });

  it('keeps two services apart', async () => {
    const one = freshStore('one');
    const two = freshStore('two');
    await one.set('anthropic', 'value-one');
    await two.set('anthropic', 'value-two');
    await two.set('only-two', 'x');
    expect(await one.get('anthropic')).toBe('value-one');
    expect(await two.get('anthropic')).toBe('value-two');
    expect(await one.list()).toEqual(['anthropic']);
    expect(await one.get('only-two')).toBeUndefined();
    expect(await one.delete('anthropic')).toBe(true);
    expect(await two.get('anthropic')).toBe('value-two');
  });
});

/*
 * The native library keeps its D-Bus connection for the life of the process, so the failure cases run in a child
 * Node with their own environment. The child loads the TypeScript source through Node's type stripping, with a
 * resolve hook that maps our `./x.js` import specifiers to the `.ts` files.
 */
const RESOLVE_TS_HOOK = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return nextResolve(specifier.slice(0, -3) + '.ts', context);
      throw error;
    }
  },
});`)}`;

const CHILD_SCRIPT = `
const { KeychainSecretStore } = await import(process.env.STORE_MODULE);
const store = new KeychainSecretStore('Pavise test child');
const results = [];
for (const attempt of [() => store.set('anthropic', 'never-stored-value'), () => store.get('anthropic'), () => store.list(), () => store.delete('anthropic')]) {
  try {
    results.push({ ok: true, value: await attempt() });
  } catch (error) {
    results.push({ ok: false, name: error.name, message: error.message });
  }
}
process.stdout.write(JSON.stringify(results));
`;

interface ChildResult {
  readonly ok: boolean;
  readonly name?: string;
  readonly message?: string;
}

function runStoreInChild(command: string[], env: NodeJS.ProcessEnv): ChildResult[] {
  const storeModule = fileURLToPath(new URL('../../main/secrets/keychain-secret-store.ts', import.meta.url));
  const [file, ...args] = [...command, process.execPath, '--import', RESOLVE_TS_HOOK, '--input-type=module', '-e', CHILD_SCRIPT];
  const stdout = execFileSync(file as string, args, {
    env: { ...env, STORE_MODULE: pathToFileURL(storeModule).href },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 30_000,
  });
  return JSON.parse(stdout) as ChildResult[];
}

function expectHelpfulFailure(result: ChildResult | undefined): void {
  expect(result).toMatchObject({ ok: false, name: 'SecretStoreError' });
  expect(result?.message).toMatch(/Secret Service/);
  expect(result?.message).toMatch(/gnome-keyring must be running in your D-Bus session and unlocked/);
  expect(result?.message).not.toContain('never-stored-value');
}

const hasDbusRunSession = (() => {
  try {
    execFileSync('dbus-run-session', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.runIf(process.platform === 'linux')('KeychainSecretStore without a usable Secret Service', () => {
  it('fails with a SecretStoreError that says what to do when there is no D-Bus session', () => {
    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=/nonexistent/pavise-${run}/bus` };
    const results = runStoreInChild([], env);
    // Every call fails: nothing is quietly kept in the kernel keyring instead.
    expect(results).toHaveLength(4);
    for (const result of results) expectHelpfulFailure(result);
  });

  it.runIf(hasDbusRunSession)('fails the same way when the keyring has no unlocked collection', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'pavise-locked-'));
    try {
      mkdirSync(join(scratch, 'data'), { mode: 0o700 });
      mkdirSync(join(scratch, 'runtime'), { mode: 0o700 });
      // D-Bus activation starts gnome-keyring, but nobody unlocks it: there is no collection to store into.
      const env: NodeJS.ProcessEnv = { ...process.env, XDG_DATA_HOME: join(scratch, 'data'), XDG_RUNTIME_DIR: join(scratch, 'runtime') };
      delete env.DBUS_SESSION_BUS_ADDRESS;
      const [set, get] = runStoreInChild(['dbus-run-session', '--'], env);
      expectHelpfulFailure(set);
      // Reading from an empty keyring is not an error: there is simply nothing stored.
      expect(get).toEqual({ ok: true });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
