/**
 * The only place secrets live (invariant 2). Code passes secret *names* around; a value is read at the moment a
 * request leaves the machine and is never written to config, the database, logs or the model's context.
 */
export interface SecretStore {
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
  /** Returns false when there was nothing to delete. */
  delete(name: string): Promise<boolean>;
  /** Names only, sorted. */
  list(): Promise<string[]>;
}

const SECRET_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function checkSecretName(name: string): string | undefined {
  return SECRET_NAME.test(name)
    ? undefined
    : `"${name}" is not a valid secret name: use lowercase letters, digits, ".", "_" or "-" (for example "anthropic").`;
}

/**
 * Set by scripts/with-keyring.sh when it had to start a private keyring for one command (a Linux box without a D-Bus
 * session): a secret stored there, the activity log's key included, is gone when the command exits. Honoured on
 * Linux only; a Mac's Keychain always lasts.
 */
export const EPHEMERAL_KEYRING = 'PAVISE_KEYRING_EPHEMERAL';

export function keyringIsEphemeral(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): boolean {
  return platform === 'linux' && env[EPHEMERAL_KEYRING] === '1';
}
