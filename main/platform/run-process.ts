import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Result } from '../common/result.js';

/**
 * The one way Pavise starts a child process (invariant 7): argv only, never a shell. Only misuse (a negative output
 * limit) throws; every failure of the child or its start comes back as a typed error in the project's Result shape, and it resolves only once the child has ended,
 * so nothing it started outlives it. Temporary files the caller asked for are written into a private (0700) folder
 * before the child starts and that folder is removed when the child has ended, whatever the outcome.
 */

export const DEFAULT_OUTPUT_LIMIT_BYTES = 1024 * 1024;
const DEFAULT_KILL_GRACE_MS = 2000;

export interface RunProcessOptions {
  readonly cwd?: string;
  /** The child's environment. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed. Without it stdin is /dev/null. */
  readonly input?: string | Uint8Array;
  /** The child is stopped (SIGTERM, then SIGKILL) when it runs longer than this. */
  readonly timeoutMs?: number;
  /** Aborting stops the child the same way; an already aborted signal starts nothing. */
  readonly signal?: AbortSignal;
  /** More stdout than this stops the child and fails the call. Default: 1 MiB. */
  readonly maxStdoutBytes?: number;
  /** More stderr than this stops the child and fails the call. Default: 1 MiB. */
  readonly maxStderrBytes?: number;
  /** Files (name → content) written, mode 0600, into a private folder that is removed when the child has ended. */
  readonly tempFiles?: Readonly<Record<string, string | Uint8Array>>;
  /** Where that folder is created. Default: os.tmpdir(). */
  readonly tempDirParent?: string;
  /** The start of that folder's name, so a leftover can be traced to its caller. Default: `pavise-run-`. */
  readonly tempDirPrefix?: string;
  /** How long a stopped child gets between SIGTERM and SIGKILL. */
  readonly killGraceMs?: number;
  /**
   * Bytes handed to the child on descriptors 3, 4, … (one pipe each, closed after the bytes), for programs that read
   * configuration from a descriptor rather than a path (bwrap's `--seccomp FD`).
   */
  readonly extraInputs?: readonly Uint8Array[];
}

export interface ProcessOutput {
  readonly stdout: string;
  readonly stderr: string;
}

export type RunProcessErrorCode = 'not-found' | 'spawn-failed' | 'temp-files' | 'timeout' | 'aborted' | 'exit' | 'output-limit';

export type RunProcessError =
  | { readonly ok: false; readonly code: 'not-found'; readonly message: string; readonly command: string }
  | { readonly ok: false; readonly code: 'spawn-failed'; readonly message: string; readonly command: string; readonly errno: string }
  | { readonly ok: false; readonly code: 'temp-files'; readonly message: string }
  | ({ readonly ok: false; readonly code: 'timeout'; readonly message: string; readonly timeoutMs: number } & ProcessOutput)
  | ({ readonly ok: false; readonly code: 'aborted'; readonly message: string } & ProcessOutput)
  | ({
      readonly ok: false;
      readonly code: 'exit';
      readonly message: string;
      readonly exitCode: number | null;
      readonly signal: NodeJS.Signals | null;
    } & ProcessOutput)
  | {
      readonly ok: false;
      readonly code: 'output-limit';
      readonly message: string;
      readonly stream: 'stdout' | 'stderr';
      readonly limitBytes: number;
    };

export type RunProcessResult = { readonly ok: true; readonly value: ProcessOutput } | RunProcessError;

/** argv, or a function of the temporary files' absolute paths (by the names given in `tempFiles`) that returns it. */
export type ProcessArgs = readonly string[] | ((tempPaths: Readonly<Record<string, string>>) => readonly string[]);

export async function runProcess(command: string, args: ProcessArgs, options: RunProcessOptions = {}): Promise<RunProcessResult> {
  limit(options.maxStdoutBytes, 'maxStdoutBytes');
  limit(options.maxStderrBytes, 'maxStderrBytes');
  if (options.signal?.aborted) return { ok: false, code: 'aborted', message: `${command} was not started: cancelled.`, stdout: '', stderr: '' };
  const names = Object.keys(options.tempFiles ?? {});
  let folder: string | undefined;
  try {
    const paths: Record<string, string> = {};
    if (names.length > 0) {
      const prepared = await writeTempFiles(options.tempFiles ?? {}, join(options.tempDirParent ?? tmpdir(), options.tempDirPrefix ?? 'pavise-run-'));
      if (!prepared.ok) return prepared;
      folder = prepared.value.folder;
      Object.assign(paths, prepared.value.paths);
    }
    const argv = typeof args === 'function' ? args(paths) : args;
    return await run(command, argv, options);
  } finally {
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
  }
}

async function writeTempFiles(
  files: Readonly<Record<string, string | Uint8Array>>,
  prefix: string,
): Promise<Result<{ folder: string; paths: Record<string, string> }, 'temp-files'>> {
  let folder: string | undefined;
  try {
    folder = await mkdtemp(prefix);
    const paths: Record<string, string> = {};
    for (const [name, content] of Object.entries(files)) {
      if (basename(name) !== name || name === '.' || name === '..') throw new Error(`"${name}" is not a plain file name`);
      const path = join(folder, name);
      await writeFile(path, content, { mode: 0o600, flag: 'wx' });
      paths[name] = path;
    }
    return { ok: true, value: { folder, paths } };
  } catch (error) {
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
    return { ok: false, code: 'temp-files', message: `Could not write the temporary files for a child process: ${(error as Error).message}` };
  }
}

function run(command: string, args: readonly string[], options: RunProcessOptions): Promise<RunProcessResult> {
  const maxStdout = limit(options.maxStdoutBytes, 'maxStdoutBytes');
  const maxStderr = limit(options.maxStderrBytes, 'maxStderrBytes');
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        shell: false,
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', ...(options.extraInputs ?? []).map(() => 'pipe' as const)],
        windowsHide: true,
      });
    } catch (error) {
      // A value Node cannot put in argv or the environment (a NUL byte) throws before anything starts.
      resolve(spawnFailure(command, (error as NodeJS.ErrnoException).code ?? 'EINVAL'));
      return;
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const sizes = { stdout: 0, stderr: 0 };
    let stopped: RunProcessError | undefined;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');
    const stop = (reason: RunProcessError) => {
      if (stopped !== undefined || settled) return;
      stopped = reason;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    };
    const onAbort = () =>
      stop({ ok: false, code: 'aborted', message: `${command} was stopped: cancelled.`, stdout: text(stdout), stderr: text(stderr) });
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            const timeoutMs = options.timeoutMs ?? 0;
            stop({ ok: false, code: 'timeout', message: `${command} did not finish within ${timeoutMs} ms.`, timeoutMs, stdout: text(stdout), stderr: text(stderr) });
          }, options.timeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (result: RunProcessResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const collect = (stream: 'stdout' | 'stderr', chunks: Buffer[], max: number) => (data: Buffer) => {
      if (stopped !== undefined) return;
      sizes[stream] += data.length;
      if (sizes[stream] > max) {
        stop({ ok: false, code: 'output-limit', message: `${command} wrote more than ${max} bytes to ${stream}.`, stream, limitBytes: max });
        return;
      }
      chunks.push(data);
    };
    child.stdout?.on('data', collect('stdout', stdout, maxStdout));
    child.stderr?.on('data', collect('stderr', stderr, maxStderr));
    if (child.stdin) {
      // A child that exits without reading its input closes the pipe; that is not this call's failure.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
    feedExtraInputs(child, options.extraInputs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      // Only a failure to start is final here; after a start, 'close' reports the end.
      if (child.pid === undefined) finish(spawnFailure(command, error.code ?? 'UNKNOWN'));
    });
    child.on('close', (exitCode, signal) => {
      if (child.pid === undefined) return;
      if (stopped !== undefined) finish(stopped);
      else if (exitCode === 0) finish({ ok: true, value: { stdout: text(stdout), stderr: text(stderr) } });
      else {
        const how = exitCode === null ? `was killed by ${signal ?? 'a signal'}` : `exited with code ${exitCode}`;
        finish({ ok: false, code: 'exit', message: `${command} ${how}.`, exitCode, signal, stdout: text(stdout), stderr: text(stderr) });
      }
    });
  });
}

function spawnFailure(command: string, errno: string): RunProcessError {
  if (errno === 'ENOENT') return { ok: false, code: 'not-found', message: `${command} was not found.`, command };
  return { ok: false, code: 'spawn-failed', message: `${command} could not be started (${errno}).`, command, errno };
}

function limit(value: number | undefined, name: string): number {
  if (value === undefined) return DEFAULT_OUTPUT_LIMIT_BYTES;
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, not ${value}`);
  return value;
}

function feedExtraInputs(child: ChildProcess, inputs: readonly Uint8Array[] | undefined): void {
  for (const [index, bytes] of (inputs ?? []).entries()) {
    const stream = child.stdio[3 + index] as NodeJS.WritableStream & { on(event: 'error', listener: () => void): unknown };
    stream.on('error', () => {});
    stream.end(bytes);
  }
}

/** A child that keeps running and talks over stdin/stdout (a skill or MCP server speaking JSON-RPC). */
export interface RunningProcess {
  readonly pid: number | undefined;
  /** Writes to the child's stdin; false once the child has ended or its stdin is closed. */
  write(data: string | Uint8Array): boolean;
  /** Each chunk of stdout, in order, as it arrives. */
  onStdout(listener: (chunk: Buffer) => void): void;
  /** Stops the child (SIGTERM, then SIGKILL after the grace period); `ended` then resolves with `reason`. */
  stop(reason?: RunProcessError): void;
  /** Resolves once the child has ended: ok for exit code 0, else why it ended. stdout is '' (it was streamed). */
  readonly ended: Promise<RunProcessResult>;
}

export type StartProcessOptions = Omit<RunProcessOptions, 'input' | 'tempFiles' | 'tempDirParent' | 'tempDirPrefix'>;

/**
 * Starts a long-running child with its stdin open, argv only, never a shell. Caps and timeout work as in
 * `runProcess` (`maxStdoutBytes` counts every streamed byte over the child's life). Never throws for the child's
 * failures: a child that cannot start gives a stopped handle whose `ended` carries the error.
 */
export function startProcess(command: string, args: readonly string[], options: StartProcessOptions = {}): RunningProcess {
  const maxStdout = limit(options.maxStdoutBytes, 'maxStdoutBytes');
  const maxStderr = limit(options.maxStderrBytes, 'maxStderrBytes');
  const listeners: ((chunk: Buffer) => void)[] = [];
  let resolveEnded: (result: RunProcessResult) => void = () => {};
  const ended = new Promise<RunProcessResult>((resolve) => (resolveEnded = resolve));
  const failed = (result: RunProcessError): RunningProcess => {
    resolveEnded(result);
    return { pid: undefined, write: () => false, onStdout: () => {}, stop: () => {}, ended };
  };
  if (options.signal?.aborted) return failed({ ok: false, code: 'aborted', message: `${command} was not started: cancelled.`, stdout: '', stderr: '' });
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      shell: false,
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe', ...(options.extraInputs ?? []).map(() => 'pipe' as const)],
      windowsHide: true,
    });
  } catch (error) {
    return failed(spawnFailure(command, (error as NodeJS.ErrnoException).code ?? 'EINVAL'));
  }
  const stderr: Buffer[] = [];
  const sizes = { stdout: 0, stderr: 0 };
  let stopped: RunProcessError | undefined;
  let settled = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stderrText = () => Buffer.concat(stderr).toString('utf8');
  const stop = (reason?: RunProcessError) => {
    if (stopped !== undefined || settled) return;
    stopped = reason ?? { ok: false, code: 'aborted', message: `${command} was stopped.`, stdout: '', stderr: stderrText() };
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
  };
  const onAbort = () => stop({ ok: false, code: 'aborted', message: `${command} was stopped: cancelled.`, stdout: '', stderr: stderrText() });
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          const timeoutMs = options.timeoutMs ?? 0;
          stop({ ok: false, code: 'timeout', message: `${command} did not finish within ${timeoutMs} ms.`, timeoutMs, stdout: '', stderr: stderrText() });
        }, options.timeoutMs);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const finish = (result: RunProcessResult) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    clearTimeout(killTimer);
    options.signal?.removeEventListener('abort', onAbort);
    resolveEnded(result);
  };
  child.stdout?.on('data', (data: Buffer) => {
    if (stopped !== undefined) return;
    sizes.stdout += data.length;
    if (sizes.stdout > maxStdout) {
      stop({ ok: false, code: 'output-limit', message: `${command} wrote more than ${maxStdout} bytes to stdout.`, stream: 'stdout', limitBytes: maxStdout });
      return;
    }
    for (const listener of listeners) listener(data);
  });
  child.stderr?.on('data', (data: Buffer) => {
    if (stopped !== undefined) return;
    sizes.stderr += data.length;
    if (sizes.stderr > maxStderr) {
      stop({ ok: false, code: 'output-limit', message: `${command} wrote more than ${maxStderr} bytes to stderr.`, stream: 'stderr', limitBytes: maxStderr });
      return;
    }
    stderr.push(data);
  });
  child.stdin?.on('error', () => {});
  feedExtraInputs(child, options.extraInputs);
  child.on('error', (error: NodeJS.ErrnoException) => {
    if (child.pid === undefined) finish(spawnFailure(command, error.code ?? 'UNKNOWN'));
  });
  child.on('close', (exitCode, signal) => {
    if (child.pid === undefined) return;
    if (stopped !== undefined) finish(stopped);
    else if (exitCode === 0) finish({ ok: true, value: { stdout: '', stderr: stderrText() } });
    else {
      const how = exitCode === null ? `was killed by ${signal ?? 'a signal'}` : `exited with code ${exitCode}`;
      finish({ ok: false, code: 'exit', message: `${command} ${how}.`, exitCode, signal, stdout: '', stderr: stderrText() });
    }
  });
  return {
    get pid() {
      return child.pid;
    },
    write: (data) => {
      if (settled || stopped !== undefined || !child.stdin || child.stdin.destroyed) return false;
      child.stdin.write(data);
      return true;
    },
    onStdout: (listener) => void listeners.push(listener),
    stop,
    ended,
  };
}
