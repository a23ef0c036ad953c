import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { Effect } from '../../common/effects.js';
import type { Provenance } from '../../common/messages.js';
import { sandboxedSpawn, type SandboxResult, type SandboxSpec } from '../../platform/sandbox/sandbox.js';
import type { ToolResult } from '../source.js';
import { defineTool, type Tool } from '../tool.js';
import type { CommandResolver } from './command-resolution.js';

export interface TerminalToolDeps {
  readonly resolver: CommandResolver;
  readonly platform: NodeJS.Platform;
  /** Tests and benches only: the box runner (the real sandbox otherwise) and tighter caps. */
  readonly spawn?: (spec: SandboxSpec) => Promise<SandboxResult>;
  readonly limits?: { readonly wallMs?: number; readonly cpuSeconds?: number; readonly memoryBytes?: number; readonly outputBytes?: number };
}

export const TERMINAL_LIMITS = {
  wallMs: 60_000,
  cpuSeconds: 30,
  memoryBytes: 1024 * 1024 * 1024,
  outputBytes: 512 * 1024,
  processes: 64,
  resultChars: 100_000,
} as const;

/** Program folders an approved command may run from (read-only); a read-only command gets only its own program. */
const APPROVED_PROGRAM_DIRS = ['/usr/bin', '/bin'];

/**
 * The whole environment of a command: nothing inherited, so no API key, token or SSH agent socket of the host's
 * reaches it. git reads no system or user config, takes no optional locks and never starts a pager.
 */
export const COMMAND_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/bin:/bin',
  LANG: 'C.UTF-8',
  TERM: 'dumb',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_OPTIONAL_LOCKS: '0',
  GIT_PAGER: 'cat',
  PAGER: 'cat',
  GIT_TERMINAL_PROMPT: '0',
};

const runInput = z.object({
  argv: z
    .array(z.string().max(8192))
    .min(1)
    .max(256)
    .describe('The program and its arguments, one item each (never a shell line): ["git", "status"], ["grep", "-rn", "TODO", "."].'),
  cwd: z.string().min(1).max(4096).optional().describe('The working folder, inside a granted folder; default the first granted folder.'),
  network: z
    .boolean()
    .optional()
    .describe('true only if this command needs the internet (git pull, npm install, curl). The owner is always asked, and the card says "with network access"; without it the command has no network.'),
});

/**
 * `run_command`: one program with its arguments in the OS sandbox, inside the owner's granted folders. No network
 * unless the call asks for it (`network: true`, then the host's whole network: the box cannot limit it to one host),
 * writes only in folders granted read-write and a private temp folder, time, memory and output caps. The gate binds
 * the approval to the argv, the real working folder, the real program and its SHA-256, and whether it has network;
 * the call re-resolves all of them just before starting and runs nothing if any differs from what was approved.
 *
 * Its output is untrusted (source "file"): a command reads files and folder names whose authors Pavise does not
 * know, so its output is as trusted as the least trusted file it could have read, which cannot be told apart.
 */
export function createTerminalTools(deps: TerminalToolDeps): readonly Tool[] {
  const spawn = deps.spawn ?? sandboxedSpawn;
  const limits = { ...TERMINAL_LIMITS, ...deps.limits };
  const runCommand = defineTool({
    name: 'run_command',
    description:
      'Run one program with its arguments inside a granted folder, in a sandbox that can write only in folders granted for reading and writing and has no network unless you set network: true (which always asks the owner). ' +
      'Give argv as a list, never a shell line. ls, cat, head, wc, grep, find (without -exec or -delete) and git status/log/diff run without asking; anything else asks the owner.',
    input: runInput,
    effects: [
      { kind: 'execute', argv: { arg: 'argv' }, cwd: { arg: 'cwd' }, network: { arg: 'network' } },
      { kind: 'read_private', what: { template: 'your files' } },
    ],
    summary: ['Run {argv|words} in {cwd}[ WITH NETWORK ACCESS{network|flag}]', 'Run {argv|words}[ WITH NETWORK ACCESS{network|flag}]'],
    output: { kind: 'per-result' },
    execute: async ({ argv, cwd, network: asked }, context) => {
      const approved = context.effects?.find((effect): effect is Extract<Effect, { kind: 'execute' }> => effect.kind === 'execute');
      if (!approved) return { content: 'Not run: this command did not pass the permission gate.', isError: true };
      const network = asked === true;
      if (network !== (approved.network === true)) {
        return { content: `Not run: it was approved ${approved.network === true ? 'with' : 'without'} network access. Ask again to see the command as it is now.`, isError: true };
      }
      // Re-resolved and re-hashed now, just before the box starts: a program swapped after approval does not run.
      const resolved = deps.resolver.resolve(argv, cwd);
      if (resolved.problem) return { content: `Not run: ${resolved.problem}`, isError: true };
      const now = { ...resolved, readOnly: resolved.readOnly && !network };
      const changed = (['cwd', 'executable', 'sha256'] as const).find((field) => now[field] !== approved[field]);
      if (changed || now.readOnly !== (approved.readOnly === true)) {
        return {
          content: `Not run: ${changed === 'sha256' ? `the program ${now.executable ?? ''} changed since it was approved (SHA-256 ${approved.sha256 ?? 'unknown'} then, ${now.sha256 ?? 'unknown'} now)` : `the ${changed ?? 'kind of command'} is not what was approved`}. Ask again to see the command as it is now.`,
          isError: true,
        };
      }
      const executable = now.executable as string;
      const grants = deps.resolver.grants();
      const readOnlyRun = now.readOnly;
      const spec: SandboxSpec = {
        argv: [executable, ...argv.slice(1)],
        cwd: now.cwd as string,
        readOnly: grants.filter((grant) => readOnlyRun || grant.access === 'read').map((grant) => grant.real),
        readWrite: readOnlyRun ? [] : grants.filter((grant) => grant.access === 'read-write').map((grant) => grant.real),
        executables: readOnlyRun || deps.platform !== 'linux' ? [] : APPROVED_PROGRAM_DIRS.filter((dir) => existsSync(dir)),
        env: COMMAND_ENV,
        network,
        limits: {
          wallMs: limits.wallMs,
          cpuSeconds: limits.cpuSeconds,
          memoryBytes: limits.memoryBytes,
          outputBytes: limits.outputBytes,
          processes: readOnlyRun ? 1 : TERMINAL_LIMITS.processes,
        },
        signal: context.signal,
      };
      return describeRun(argv, spec.cwd as string, await spawn(spec));
    },
  });
  return [runCommand] as readonly Tool[];
}

function describeRun(argv: readonly string[], cwd: string, result: SandboxResult): ToolResult {
  const provenance: Provenance = { kind: 'untrusted', source: 'file', detail: `output of ${argv[0] ?? 'a command'} in ${cwd}` };
  const head = `$ ${argv.map((arg) => JSON.stringify(arg)).join(' ')}  (in ${cwd})`;
  const body = (stdout: string, stderr: string): string => {
    const text = [stdout, ...(stderr.length > 0 ? [`[stderr]\n${stderr}`] : [])].join('\n');
    return text.length > TERMINAL_LIMITS.resultChars ? `${text.slice(0, TERMINAL_LIMITS.resultChars)}\n[… ${text.length - TERMINAL_LIMITS.resultChars} more characters not shown]` : text;
  };
  if (result.ok) return { content: `${head}\n[exit 0]\n${body(result.value.stdout, result.value.stderr)}`, provenance };
  if (result.code === 'exit') {
    return { content: `${head}\n[exit ${String(result.exitCode ?? 'unknown')}]\n${body(result.stdout ?? '', result.stderr ?? '')}`, provenance };
  }
  const partial = result.stdout || result.stderr ? `\n${body(result.stdout ?? '', result.stderr ?? '')}` : '';
  return { content: `${head}\n[stopped: ${result.message}]${partial}`, isError: true, provenance };
}
