import type { Readable, Writable } from 'node:stream';

/** The CLI's connection to the outside world, injectable so commands are testable in-process. */
export interface CliIO {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export const EPHEMERAL_KEYRING_WHY =
  'This machine has no D-Bus session, so the keyring ./scripts/start.sh started lasts only for this one command: a ' +
  'secret stored in it is gone when the command exits. Run Pavise where a Secret Service keeps its keyring (a desktop ' +
  'login, or gnome-keyring unlocked in a long-lived dbus-run-session), or give the model key as ANTHROPIC_API_KEY / OPENAI_API_KEY.';
