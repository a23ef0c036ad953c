import type { READ_ONLY_COMMANDS } from '../../common/config-schema.js';

export type ReadOnlyCommand = (typeof READ_ONLY_COMMANDS)[number];

/** find's actions that run a program, delete, or write a file. */
const FIND_WRITES = new Set(['-exec', '-execdir', '-ok', '-okdir', '-delete', '-fprint', '-fprint0', '-fprintf', '-fls']);
const GIT_SUBCOMMANDS = new Set(['status', 'log', 'diff']);
/** git options that set config, write a file, or run a program (an external diff, a text converter, a pager). */
const GIT_REFUSED = [/^-c$/, /^-c./, /^--config-env/, /^--output/, /^-o$/, /^--ext-diff$/, /^--textconv$/, /^--paginate$/, /^-p$/, /^--exec/, /^--upload-pack/, /^--open-files-in-pager/, /^-O/];

/**
 * Whether an argv (program name and arguments, already split: never a string matched by a glob) is one of the
 * read-only commands the owner allows to run unasked. `git` must be followed directly by `status`, `log` or `diff`
 * (no global options); `-p` on `git log`/`git diff` is refused because it is also `--paginate` before a subcommand and
 * a patch needs the diff machinery that runs text converters. The box such a command runs in is read-only and cannot
 * start another process, so this list is the first fence, not the only one.
 */
export function isReadOnlyArgv(name: string, args: readonly string[], allowed: readonly ReadOnlyCommand[]): boolean {
  if (!(allowed as readonly string[]).includes(name)) return false;
  switch (name as ReadOnlyCommand) {
    case 'ls':
    case 'cat':
    case 'head':
    case 'wc':
    case 'grep':
      return true;
    case 'find':
      return !args.some((arg) => FIND_WRITES.has(arg));
    case 'git': {
      const [subcommand, ...rest] = args;
      if (subcommand === undefined || !GIT_SUBCOMMANDS.has(subcommand)) return false;
      return !rest.some((arg) => GIT_REFUSED.some((pattern) => pattern.test(arg)));
    }
  }
}
