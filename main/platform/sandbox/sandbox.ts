import { existsSync, realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { type RunningProcess, type RunProcessError, runProcess, startProcess } from '../run-process.js';
import { bwrapArgs } from './bwrap-args.js';
import { MACOS_SHELL, macosLimitArgs } from './macos-limits.js';
import { type SandboxRule, sandboxRules } from './rules.js';
import { seatbeltProfile } from './seatbelt-profile.js';
import { seccompProgram } from './seccomp.js';

/**
 * The OS sandbox every skill, MCP server and terminal command runs in (invariant 8). One call describes the box:
 *
 *   sandboxedSpawn({ argv: ['/usr/bin/git', 'status'], cwd: '/Users/me/project', readOnly: ['/Users/me/project'],
 *                    executables: ['/usr/bin/git'], limits: { processes: 32, wallMs: 10_000 } })
 *
 * Inside the box a program sees: the system libraries read-only (no /bin, /usr/bin, /etc, home), `argv[0]` and
 * `executables` (read-only, runnable), `readOnly` and `readWrite` (at the same paths as outside), a private empty
 * temp folder (`TMPDIR`, removed afterwards), `/dev/null`-style devices, and exactly the environment in `env`
 * (nothing is inherited). It has no network (its requests go through the host over stdio) unless `network` is true
 * (a terminal command the owner approved with network: the host's network, all of it), cannot listen or bind a socket (io_uring included), trace
 * or reach the kernel keyring, sees no other process, and is an unprivileged user. Unless `limits.processes` is above
 * 1 it cannot fork at all (threads work). CPU seconds, data memory, file size, wall-clock time and output are capped;
 * a box that exceeds one is stopped and the call fails with a code naming the limit.
 *
 * Linux: bwrap with a seccomp program and rlimits set by prlimit. macOS: sandbox-exec with a generated profile whose
 * rules mirror the Linux ones one for one (`rules.ts`), started under the same rlimits by a fixed `/bin/sh` script
 * (`macos-limits.ts`). Anything else: `sandboxSupport()` says why not, and nothing runs unboxed.
 */

export interface SandboxLimits {
  /** CPU time; exceeding it kills the box. Default 10. */
  readonly cpuSeconds?: number;
  /** Data memory of each process in the box (RLIMIT_DATA; Node itself needs about 600 MiB of it to start). Default 1 GiB. */
  readonly memoryBytes?: number;
  /** Wall-clock time from start to end. Default 30 s (a long-running box: none unless given). */
  readonly wallMs?: number;
  /** Bytes of stdout and, separately, of stderr. Default 1 MiB. */
  readonly outputBytes?: number;
  /** Processes the box may have. Default 1: no fork at all. Above 1, forks are allowed (RLIMIT_NPROC when not root). */
  readonly processes?: number;
  /** Largest file the box may write. Default 64 MiB. */
  readonly fileBytes?: number;
}

export interface SandboxSpec {
  /** argv[0] is an absolute path; it is made visible read-only and runnable. */
  readonly argv: readonly string[];
  /** Working directory inside the box. Default: its temp folder. */
  readonly cwd?: string;
  readonly readOnly?: readonly string[];
  readonly readWrite?: readonly string[];
  /** Further programs the box may run (absolute paths). */
  readonly executables?: readonly string[];
  /**
   * Skills and MCP servers never have network of their own (their requests go through the host's broker). Only a
   * terminal command the owner approved "with network access" gets `true`: the host's whole network, all or nothing.
   */
  readonly network?: boolean;
  /** The whole environment of the program. */
  readonly env?: Readonly<Record<string, string>>;
  readonly limits?: SandboxLimits;
  /** One-shot only: written to stdin, which is then closed. */
  readonly input?: string;
  readonly signal?: AbortSignal;
}

export type SandboxErrorCode = 'unavailable' | 'bad-spec' | 'cpu-limit' | 'memory-limit' | 'wall-limit' | 'output-limit' | 'aborted' | 'exit' | 'start-failed';

export interface SandboxFailure {
  readonly ok: false;
  readonly code: SandboxErrorCode;
  readonly message: string;
  readonly exitCode?: number | null;
  readonly stdout?: string;
  readonly stderr?: string;
}

export type SandboxResult = { readonly ok: true; readonly value: { readonly stdout: string; readonly stderr: string } } | SandboxFailure;

export type SandboxSupport =
  | { readonly ok: true; readonly mechanism: 'bwrap' | 'sandbox-exec'; readonly command: string }
  | { readonly ok: false; readonly code: 'unavailable'; readonly message: string };

export const DEFAULT_SANDBOX_LIMITS: Required<Omit<SandboxLimits, 'wallMs'>> & { readonly wallMs: number } = {
  cpuSeconds: 10,
  memoryBytes: 1024 * 1024 * 1024,
  wallMs: 30_000,
  outputBytes: 1024 * 1024,
  processes: 1,
  fileBytes: 64 * 1024 * 1024,
};

const SEARCH_PATH = ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin'];
const LINUX_SYSTEM_PATHS = ['/usr/lib', '/usr/lib64', '/usr/lib32', '/lib', '/lib64', '/lib32', '/etc/ld.so.cache', '/usr/share/zoneinfo'];
const MACOS_SYSTEM_PATHS = ['/usr/lib', '/System/Library', '/private/var/db/dyld', '/private/var/db/timezone', '/usr/share/zoneinfo'];
/** What a box with network needs to resolve names and check certificates (read-only, added only then). */
const LINUX_NETWORK_PATHS = ['/etc/resolv.conf', '/etc/hosts', '/etc/nsswitch.conf', '/etc/gai.conf', '/etc/ssl', '/etc/ca-certificates', '/usr/share/ca-certificates'];
const MACOS_NETWORK_PATHS = ['/private/etc/hosts', '/private/etc/ssl', '/private/var/run/resolv.conf'];
const SANDBOX_EXEC = '/usr/bin/sandbox-exec';
const SECCOMP_FD = 3;
/** How long a stopped box gets between SIGTERM and SIGKILL: nothing in it needs to clean up. */
const KILL_GRACE_MS = 200;

function findProgram(name: string): string | undefined {
  return SEARCH_PATH.map((dir) => join(dir, name)).find((path) => existsSync(path));
}

export function sandboxSupport(platform: NodeJS.Platform = process.platform): SandboxSupport {
  if (platform === 'darwin') {
    return existsSync(SANDBOX_EXEC)
      ? { ok: true, mechanism: 'sandbox-exec', command: SANDBOX_EXEC }
      : { ok: false, code: 'unavailable', message: `${SANDBOX_EXEC} is missing; skills cannot run on this Mac.` };
  }
  if (platform === 'linux') {
    const bwrap = findProgram('bwrap');
    if (!bwrap) return { ok: false, code: 'unavailable', message: 'bwrap is not installed; install bubblewrap (apt install bubblewrap) to run skills.' };
    if (!findProgram('prlimit')) return { ok: false, code: 'unavailable', message: 'prlimit is not installed; install util-linux to run skills.' };
    if (!seccompProgram({ allowFork: false })) return { ok: false, code: 'unavailable', message: `Skills cannot be boxed on ${process.arch} yet (no seccomp program).` };
    return { ok: true, mechanism: 'bwrap', command: bwrap };
  }
  return { ok: false, code: 'unavailable', message: `Skills cannot be boxed on ${platform}.` };
}

/** Everything needed to start one box: the command line, its extra descriptors and the temp folder to remove. */
export interface SandboxPlan {
  readonly command: string;
  readonly args: readonly string[];
  readonly extraInputs: readonly Uint8Array[];
  readonly rules: readonly SandboxRule[];
  readonly tempDir: string;
  readonly limits: typeof DEFAULT_SANDBOX_LIMITS;
}

type PlanResult = { readonly ok: true; readonly value: SandboxPlan } | SandboxFailure;

/** Builds the command line for a box; pure apart from resolving real paths. The temp folder must already exist. */
export function planSandbox(spec: SandboxSpec, tempDir: string, support: SandboxSupport = sandboxSupport()): PlanResult {
  if (!support.ok) return support;
  const limits = { ...DEFAULT_SANDBOX_LIMITS, ...definedOnly(spec.limits ?? {}) };
  const problem = checkSpec(spec, limits);
  if (problem) return { ok: false, code: 'bad-spec', message: problem };
  let resolved: { executables: string[]; readOnly: string[]; readWrite: string[]; temp: string };
  try {
    resolved = {
      executables: unique([spec.argv[0] as string, ...(spec.executables ?? [])].map((path) => realpathSync(path))),
      readOnly: unique((spec.readOnly ?? []).map((path) => realpathSync(path))),
      readWrite: unique((spec.readWrite ?? []).map((path) => realpathSync(path))),
      temp: realpathSync(tempDir),
    };
  } catch (error) {
    return { ok: false, code: 'bad-spec', message: `A path given to the sandbox does not exist: ${(error as Error).message}` };
  }
  const allowFork = limits.processes > 1;
  const rules = sandboxRules({
    systemPaths: [
      ...(support.mechanism === 'bwrap' ? LINUX_SYSTEM_PATHS : MACOS_SYSTEM_PATHS),
      ...(spec.network === true ? (support.mechanism === 'bwrap' ? LINUX_NETWORK_PATHS : MACOS_NETWORK_PATHS) : []),
    ],
    executables: resolved.executables,
    readOnly: resolved.readOnly,
    readWrite: resolved.readWrite,
    tempDir: resolved.temp,
    allowFork,
    network: spec.network === true,
  });
  const env = { ...(spec.env ?? {}), TMPDIR: resolved.temp };
  const argv = [resolved.executables[0] as string, ...spec.argv.slice(1)];
  const cwd = spec.cwd ?? resolved.temp;
  const processes = allowFork && process.getuid?.() !== 0 ? limits.processes : undefined;
  if (support.mechanism === 'sandbox-exec') {
    const args = macosLimitArgs({ ...limits, processes }, support.command, ['-p', seatbeltProfile(rules), '--', ...argv]);
    return { ok: true, value: { command: MACOS_SHELL, args, extraInputs: [], rules, tempDir: resolved.temp, limits } };
  }
  const program = seccompProgram({ allowFork }) as Uint8Array;
  const prlimit = findProgram('prlimit') as string;
  const rlimits = [
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`,
    `--data=${limits.memoryBytes}`,
    `--fsize=${limits.fileBytes}`,
    '--core=0',
    ...(processes !== undefined ? [`--nproc=${processes}`] : []),
  ];
  const args = [...rlimits, '--', support.command, ...bwrapArgs(rules, { cwd, env, argv, seccompFd: SECCOMP_FD })];
  return { ok: true, value: { command: prlimit, args, extraInputs: [program], rules, tempDir: resolved.temp, limits } };
}

function checkSpec(spec: SandboxSpec, limits: typeof DEFAULT_SANDBOX_LIMITS): string | undefined {
  if (spec.argv.length === 0 || !isAbsolute(spec.argv[0] as string)) return 'The sandbox needs argv whose first item is an absolute path to a program.';
  const paths = [...(spec.readOnly ?? []), ...(spec.readWrite ?? []), ...(spec.executables ?? []), ...(spec.cwd ? [spec.cwd] : [])];
  const relative = paths.find((path) => !isAbsolute(path));
  if (relative !== undefined) return `Sandbox paths must be absolute: "${relative}".`;
  if (spec.network !== undefined && typeof spec.network !== 'boolean') return 'The sandbox network setting must be true or false.';
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) return `The sandbox limit ${name} must be a positive integer, not ${String(value)}.`;
  }
  return undefined;
}

async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'pavise-box-'));
}

/** Runs a program in a box to the end, with `spec.input` on stdin. */
export async function sandboxedSpawn(spec: SandboxSpec): Promise<SandboxResult> {
  const tempDir = await makeTempDir();
  try {
    const plan = planSandbox(spec, tempDir);
    if (!plan.ok) return plan;
    const { limits } = plan.value;
    const result = await runProcess(plan.value.command, plan.value.args, {
      env: {},
      extraInputs: plan.value.extraInputs,
      timeoutMs: spec.limits?.wallMs ?? limits.wallMs,
      maxStdoutBytes: limits.outputBytes,
      maxStderrBytes: limits.outputBytes,
      killGraceMs: KILL_GRACE_MS,
      ...(spec.input !== undefined ? { input: spec.input } : {}),
      ...(spec.signal ? { signal: spec.signal } : {}),
    });
    return result.ok ? result : describeFailure(result, limits);
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}

/** A long-running box talking over stdin/stdout (a skill or MCP server). */
export interface RunningSandbox extends Omit<RunningProcess, 'ended'> {
  readonly ended: Promise<SandboxResult>;
  readonly rules: readonly SandboxRule[];
}

/** Starts a box that keeps running; `limits.wallMs` applies only when given. Its temp folder goes when it ends. */
export async function startSandboxed(spec: SandboxSpec): Promise<{ readonly ok: true; readonly value: RunningSandbox } | SandboxFailure> {
  const tempDir = await makeTempDir();
  const plan = planSandbox(spec, tempDir);
  if (!plan.ok) {
    await rm(tempDir, { recursive: true, force: true });
    return plan;
  }
  const { limits } = plan.value;
  const running = startProcess(plan.value.command, plan.value.args, {
    env: {},
    extraInputs: plan.value.extraInputs,
    maxStdoutBytes: Number.MAX_SAFE_INTEGER,
    maxStderrBytes: limits.outputBytes,
    killGraceMs: KILL_GRACE_MS,
    ...(spec.limits?.wallMs !== undefined ? { timeoutMs: spec.limits.wallMs } : {}),
    ...(spec.signal ? { signal: spec.signal } : {}),
  });
  const ended = running.ended.then(async (result) => {
    await rm(tempDir, { recursive: true, force: true });
    return result.ok ? (result as SandboxResult) : describeFailure(result, limits);
  });
  return {
    ok: true,
    value: { pid: running.pid, write: running.write, onStdout: running.onStdout, stop: running.stop, ended, rules: plan.value.rules },
  };
}

const SIGNAL_EXIT_BASE = 128;
const SIGXCPU = 24;

/** Names the limit a box hit, from how it ended (bwrap passes a killed program's signal on as 128 + signal). */
export function describeFailure(result: RunProcessError, limits: typeof DEFAULT_SANDBOX_LIMITS): SandboxFailure {
  const output = 'stdout' in result ? { stdout: result.stdout, stderr: result.stderr } : {};
  switch (result.code) {
    case 'timeout':
      return { ok: false, code: 'wall-limit', message: `Stopped: it ran longer than its ${limits.wallMs} ms.`, ...output };
    case 'output-limit':
      return { ok: false, code: 'output-limit', message: `Stopped: it wrote more than ${result.limitBytes} bytes to ${result.stream}.` };
    case 'aborted':
      return { ok: false, code: 'aborted', message: result.message, ...output };
    case 'not-found':
    case 'spawn-failed':
    case 'temp-files':
      return { ok: false, code: 'start-failed', message: `The sandbox could not start: ${result.message}` };
    case 'exit': {
      const signal = result.signal ?? (result.exitCode !== null && result.exitCode > SIGNAL_EXIT_BASE ? result.exitCode - SIGNAL_EXIT_BASE : undefined);
      if (signal === 'SIGXCPU' || signal === SIGXCPU) {
        return { ok: false, code: 'cpu-limit', message: `Stopped: it used more than its ${limits.cpuSeconds} s of CPU.`, exitCode: result.exitCode, ...output };
      }
      if (/out of memory|allocation failed|Cannot allocate memory|ENOMEM/i.test(result.stderr)) {
        return { ok: false, code: 'memory-limit', message: `Stopped: it needed more than its ${limits.memoryBytes} bytes of memory.`, exitCode: result.exitCode, ...output };
      }
      return { ok: false, code: 'exit', message: result.message, exitCode: result.exitCode, ...output };
    }
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}

function unique(paths: string[]): string[] {
  return [...new Set(paths)];
}
