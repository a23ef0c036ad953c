import { AsyncEntry, findCredentialsAsync, type EntryOptions } from '@napi-rs/keyring';
import { checkSecretName, type SecretStore } from './secret-store.js';

/** A secret could not be read or written. The message says what to do; it never contains a secret's value. */
export class SecretStoreError extends Error {
  override readonly name = 'SecretStoreError';
}

export interface KeychainSecretStoreOptions {
  /** Defaults to the running platform; decides the wording of errors and the Linux store pinning. */
  readonly platform?: NodeJS.Platform;
  /** A keyring call that takes longer (a system unlock prompt nobody answers) fails with a SecretStoreError. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** The default home keeps the plain service name; any other home gets its own, so test homes never collide. */
export function keychainServiceFor(home: string, defaultHome: string): string {
  return home === defaultHome ? 'Pavise' : `Pavise (${home})`;
}

/**
 * Secrets in the platform's credential store via @napi-rs/keyring: the login Keychain on macOS, the Secret Service
 * (gnome-keyring, KWallet) on Linux. Each secret is one item: service = this store's service, account = the name.
 *
 * On Linux the Secret Service is required: the library would otherwise fall back to the kernel keyring, which
 * forgets everything at reboot, and a secret that silently vanishes is worse than a clear error.
 */
export class KeychainSecretStore implements SecretStore {
  readonly service: string;
  readonly #platform: NodeJS.Platform;
  readonly #timeoutMs: number;
  readonly #entryOptions: EntryOptions;
  /** One entry per secret name, kept: building one costs several milliseconds of blocked main thread (see #entry). */
  readonly #entries = new Map<string, AsyncEntry>();

  constructor(service: string, options: KeychainSecretStoreOptions = {}) {
    if (service.length === 0) throw new SecretStoreError('A Keychain service name must not be empty.');
    this.service = service;
    this.#platform = options.platform ?? process.platform;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#entryOptions = this.#platform === 'linux' ? { linux: { store: 'secret-service' } } : {};
  }

  async get(name: string): Promise<string | undefined> {
    this.#checkName(name);
    const value = await this.#call(`read "${name}" from`, (signal) => this.#entry(name).getPassword(signal), name);
    return value ?? undefined;
  }

  async set(name: string, value: string): Promise<void> {
    this.#checkName(name);
    if (value.length === 0) throw new SecretStoreError(`The value for "${name}" is empty; nothing was stored.`);
    await this.#call(`store "${name}" in`, (signal) => this.#entry(name).setPassword(value, signal), name);
  }

  async delete(name: string): Promise<boolean> {
    this.#checkName(name);
    return this.#call(`delete "${name}" from`, (signal) => this.#entry(name).deleteCredential(signal), name);
  }

  async list(): Promise<string[]> {
    const credentials = await this.#call('list the secrets in', (signal) =>
      findCredentialsAsync(this.service, null, signal),
    );
    // The library hands back values too; only the names leave this method. Items someone else filed under our
    // service with a name we would refuse are left out: no other method could address them.
    const names = new Set(credentials.map((credential) => credential.account));
    return [...names].filter((name) => checkSecretName(name) === undefined).sort();
  }

  #checkName(name: string): void {
    const problem = checkSecretName(name);
    if (problem) throw new SecretStoreError(problem);
  }

  /**
   * Built at first use of a name inside #call, since on Linux the constructor itself connects to D-Bus (about 8 ms,
   * synchronously) and throws when there is no session bus; kept after that, and dropped when a call through it
   * fails, so a restarted keyring or bus is met with a fresh one.
   */
  #entry(name: string): AsyncEntry {
    let entry = this.#entries.get(name);
    if (entry === undefined) {
      entry = new AsyncEntry(this.service, name, this.#entryOptions);
      this.#entries.set(name, entry);
    }
    return entry;
  }

  async #call<T>(action: string, run: (signal: AbortSignal) => Promise<T>, name?: string): Promise<T> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    try {
      return await run(signal);
    } catch (error) {
      if (name !== undefined) this.#entries.delete(name);
      const detail = signal.aborted
        ? `no answer within ${Math.round(this.#timeoutMs / 1000)} s`
        : (error instanceof Error ? error.message : String(error)).split('\n')[0]?.trim() || 'unknown error';
      throw new SecretStoreError(
        `Could not ${action} the ${storeName(this.#platform)} (service "${this.service}"): ${detail}. ${remedy(this.#platform)}`,
        { cause: error },
      );
    }
  }
}

function storeName(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'Keychain';
  if (platform === 'linux') return 'Secret Service';
  return 'credential store';
}

function remedy(platform: NodeJS.Platform): string {
  if (platform === 'darwin') {
    return 'Unlock the login keychain (open Keychain Access, or run `security unlock-keychain login.keychain`) and allow Pavise to use it.';
  }
  if (platform === 'linux') {
    return (
      'On Linux a Secret Service such as gnome-keyring must be running in your D-Bus session and unlocked ' +
      '(for example: `printf %s "$PASSWORD" | gnome-keyring-daemon --unlock --components=secrets`). ' +
      'Without one, use ANTHROPIC_API_KEY / OPENAI_API_KEY instead.'
    );
  }
  return "Make sure the system's credential store is available and unlocked.";
}
