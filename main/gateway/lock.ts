import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';

export class GatewayLockedError extends Error {
  override readonly name = 'GatewayLockedError';
}

/**
 * One gateway per PAVISE_HOME, guarded by a lock file holding the owner's pid (never a port). A lock left by a
 * process that no longer exists is taken over.
 */
/** Locks this process holds: a second gateway in the same process (the menu-bar app) is refused too. */
const heldHere = new Set<string>();

export function acquireGatewayLock(path: string, pid = process.pid): { release(): void } {
  if (heldHere.has(path)) {
    throw new GatewayLockedError('A Pavise gateway is already running for this home in this process.');
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${pid}\n`);
      closeSync(fd);
      heldHere.add(path);
      return {
        release: () => {
          heldHere.delete(path);
          try {
            if (readFileSync(path, 'utf8').trim() === String(pid)) rmSync(path, { force: true });
          } catch {
            // Already gone.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSafe(path), 10);
      if (Number.isInteger(holder) && holder > 0 && holder !== pid && isAlive(holder)) {
        throw new GatewayLockedError(
          `Another Pavise gateway is already running for this home (pid ${holder}). Stop it first, or use the menu-bar app; ` +
            '`pavise approvals` and `pavise activity` work beside it.',
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new GatewayLockedError(`Could not take the gateway lock at ${path}; remove it if no Pavise is running.`);
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
