import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { FolderGrant } from '../../common/config-schema.js';
import type { ExecuteResolution } from '../effect-templates.js';
import { isInside } from '../files/folder-grants.js';
import { isReadOnlyArgv, type ReadOnlyCommand } from './read-only-commands.js';

/** Where a bare program name is looked up: fixed, never the environment's PATH (which anyone could have changed). */
export const PROGRAM_DIRS = ['/usr/bin', '/bin', '/usr/local/bin', '/opt/homebrew/bin', '/usr/sbin', '/sbin'];
/** Programs in these folders may count as read-only commands; a `ls` inside a granted folder never does. */
const SYSTEM_DIRS = ['/usr/bin', '/bin'];

export interface RealGrant {
  readonly real: string;
  readonly access: 'read' | 'read-write';
}

export interface ResolvedCommand extends ExecuteResolution {
  readonly problem?: string;
}

/**
 * Resolves a command the way the terminal will run it, synchronously (the host evaluates effects synchronously,
 * and does so again when an approval is used, so the hash it binds is taken twice). Grants are resolved after links
 * on every call: a folder renamed or swapped for a link since startup is judged as it is now.
 */
export class CommandResolver {
  constructor(
    private readonly folders: readonly FolderGrant[],
    private readonly homeDir: string,
    private readonly readOnlyCommands: readonly ReadOnlyCommand[],
  ) {}

  grants(): RealGrant[] {
    return this.folders.flatMap((grant) => {
      const path = grant.path === '~' ? this.homeDir : grant.path.startsWith('~/') ? join(this.homeDir, grant.path.slice(2)) : grant.path;
      try {
        return [{ real: realpathSync(path), access: grant.access }];
      } catch {
        return [];
      }
    });
  }

  resolve(argv: readonly string[], cwd: string | undefined): ResolvedCommand {
    const grants = this.grants();
    const first = grants[0];
    if (!first) return { readOnly: false, problem: 'No folder is granted; commands run only inside folders listed under files.folders in config.json.' };
    let realCwd: string;
    try {
      realCwd = realpathSync(cwd === undefined ? first.real : resolve(first.real, cwd.startsWith('~/') ? join(this.homeDir, cwd.slice(2)) : cwd));
    } catch {
      return { readOnly: false, problem: `The working folder ${cwd ?? first.real} does not exist.` };
    }
    if (!grants.some((grant) => isInside(realCwd, grant.real))) {
      return { readOnly: false, cwd: realCwd, problem: `${realCwd} is outside the folders the owner granted; commands run only inside them.` };
    }
    const program = argv[0];
    if (program === undefined || program.length === 0 || program.includes('\0')) return { readOnly: false, cwd: realCwd, problem: 'The command needs a program name first.' };
    const executable = findExecutable(program, realCwd);
    if (!executable) return { readOnly: false, cwd: realCwd, problem: `No program "${program}" was found (looked in ${program.includes('/') ? realCwd : PROGRAM_DIRS.join(', ')}).` };
    let sha256: string;
    try {
      sha256 = createHash('sha256').update(readFileSync(executable)).digest('hex');
    } catch (error) {
      return { readOnly: false, cwd: realCwd, executable, problem: `${executable} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).` };
    }
    const readOnly = !program.includes('/') && SYSTEM_DIRS.some((dir) => isInside(executable, realOrSelf(dir))) && isReadOnlyArgv(program, argv.slice(1), this.readOnlyCommands);
    return { cwd: realCwd, executable, sha256, readOnly };
  }
}

function findExecutable(program: string, cwd: string): string | undefined {
  const candidates = program.includes('/') ? [isAbsolute(program) ? program : resolve(cwd, program)] : PROGRAM_DIRS.map((dir) => join(dir, program));
  for (const candidate of candidates) {
    try {
      const real = realpathSync(candidate);
      const info = statSync(real);
      if (info.isFile() && (info.mode & 0o111) !== 0) return real;
    } catch {
      // not here; try the next folder
    }
  }
  return undefined;
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
