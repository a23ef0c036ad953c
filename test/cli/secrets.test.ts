import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main, reportError } from '../../main/cli/main.js';
import { ActivityKeyError } from '../../main/permissions/activity-log.js';
import { defaultPaviseHome } from '../../main/config/paths.js';
import { KeychainSecretStore, keychainServiceFor } from '../../main/secrets/keychain-secret-store.js';

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

/** A terminal as far as the command can tell: isTTY, and raw mode switched on and off. */
function terminal() {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, rawModes: [] as boolean[] });
  Object.assign(stdin, {
    setRawMode(on: boolean) {
      stdin.rawModes.push(on);
      return stdin;
    },
  });
  return stdin;
}

function run(args: string[], stdin: PassThrough, extraEnv: NodeJS.ProcessEnv = {}) {
  const home = mkdtempSync(join(tmpdir(), 'pavise-secrets-cli-'));
  homes.push(home);
  let out = '';
  let err = '';
  const stdout = new PassThrough().on('data', (chunk: Buffer) => (out += String(chunk)));
  const stderr = new PassThrough().on('data', (chunk: Buffer) => (err += String(chunk)));
  const env = { ...process.env, ...extraEnv, PAVISE_HOME: home };
  const code = main(args, { stdin, stdout, stderr, env });
  return { code, out: () => out, err: () => err, env };
}

describe('pavise secrets set in a terminal', () => {
  it('turns the echo off while the value is typed, and stores it', async () => {
    const stdin = terminal();
    const result = run(['secrets', 'set', 'anthropic'], stdin);
    await new Promise((resolve) => setTimeout(resolve, 50));
    stdin.write('sk-ant-typed-valuX\u007fe\r\u0004');
    expect(await result.code).toBe(0);
    expect(stdin.rawModes).toEqual([true, false]);
    expect(result.err()).toContain('Stored "anthropic"');
    expect(result.out() + result.err()).not.toContain('sk-ant-typed');
    // Backspace removed the typo, Enter became the final newline that is not part of the key.
    const home = result.env.PAVISE_HOME as string;
    const store = new KeychainSecretStore(keychainServiceFor(home, defaultPaviseHome(result.env)));
    expect(await store.get('anthropic')).toBe('sk-ant-typed-value');
  });

  it('Ctrl-C stores nothing and says so', async () => {
    const stdin = terminal();
    const result = run(['secrets', 'set', 'openai'], stdin);
    await new Promise((resolve) => setTimeout(resolve, 50));
    stdin.write('half-typed\u0003');
    expect(await result.code).toBe(1);
    expect(stdin.rawModes).toEqual([true, false]);
    expect(result.err()).toContain('nothing stored');
  });
});

describe('pavise secrets set from a pipe', () => {
  it('refuses a value that is only white space, as it refuses an empty one', async () => {
    const stdin = new PassThrough();
    stdin.end('   \n');
    const result = run(['secrets', 'set', 'openai'], stdin);
    expect(await result.code).toBe(1);
    expect(result.err()).toContain('no value on stdin; nothing stored');
  });
});

describe('a keyring that lasts for one command (scripts/with-keyring.sh without a D-Bus session)', () => {
  it('secrets set stores nothing there and says why and what to do instead', async () => {
    const stdin = new PassThrough();
    stdin.end('sk-ant-api03-pasted\n');
    const result = run(['secrets', 'set', 'anthropic'], stdin, { PAVISE_KEYRING_EPHEMERAL: '1' });
    expect(await result.code).toBe(1);
    expect(result.err()).toContain('nothing stored. This machine has no D-Bus session');
    expect(result.err()).toContain('ANTHROPIC_API_KEY');
    const store = new KeychainSecretStore(keychainServiceFor(result.env.PAVISE_HOME as string, defaultPaviseHome(result.env)));
    expect(await store.list()).toEqual([]);
  });

  it("a missing activity-log key is reported without 'unexpected error', with the reason", () => {
    let err = '';
    const stderr = new PassThrough().on('data', (chunk: Buffer) => (err += String(chunk)));
    const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr, env: { PAVISE_KEYRING_EPHEMERAL: '1' } };
    expect(reportError(new ActivityKeyError("The activity log's key (activity-log-key) is missing from the Keychain."), io)).toBe(1);
    expect(err).not.toContain('unexpected error');
    expect(err).toContain('lasts only for this one command');
  });
});
