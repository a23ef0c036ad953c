import { join } from 'node:path';
import type { Effect } from '../common/effects.js';
import { type RunningSandbox, type SandboxFailure, startSandboxed } from '../platform/sandbox/sandbox.js';
import { brokerFetch, type SecretFiller, type Transport } from './network-broker.js';
import type { SkillActivity } from './installed-skills.js';
import { binaryProblem, resolvePermissionPath, type SkillPermissions, writeGrantProblem } from './permissions.js';

/**
 * The end of what a failed program wrote to stderr, without stack frames ("    at …"): Node prints the error
 * before its stack, so the stack's tail alone would hide what went wrong.
 */
export function errorOutput(stderr: string, max = 300): string {
  const lines = stderr.split('\n').filter((line) => !/^\s+at\s/.test(line) && line.trim() !== '');
  return lines.join('\n').trim().slice(-max);
}

/**
 * One code skill's process: started in its sandbox at the first call, spoken to over stdin/stdout with
 * newline-delimited JSON-RPC 2.0, and stopped when idle, on close, or when it breaks a limit. Host → skill:
 * `tools/call { name, arguments }`. Skill → host: `net/fetch { url, method, headers, body }` (the broker). Calls run
 * one at a time, so the broker always knows which call's approved effects a request belongs to.
 */

export interface SkillProcessOptions {
  readonly skill: string;
  readonly dir: string;
  /** The argv after the runtime, as pavise.json gives it. */
  readonly runtime: string;
  readonly args: readonly string[];
  readonly granted: SkillPermissions;
  readonly limits: { readonly cpuSeconds?: number; readonly memoryBytes?: number; readonly callTimeoutMs?: number };
  readonly secrets: SecretFiller;
  readonly transport: Transport;
  readonly activity: SkillActivity;
  readonly idleMs?: number;
  /** Folders no write grant may cover (Pavise's own home). */
  readonly protectedDirs?: readonly string[];
  /** Checks the installed files against the pin; a process starts only when it says yes (invariant 8). */
  readonly verify?: () => Promise<{ readonly ok: true } | { readonly ok: false; readonly message: string }>;
}

export type SkillCallResult = { readonly ok: true; readonly content: string } | { readonly ok: false; readonly message: string };

const DEFAULT_CALL_TIMEOUT_MS = 30_000;
const DEFAULT_IDLE_MS = 60_000;
const MAX_LINE_BYTES = 1024 * 1024;
const MAX_RESULT_CHARS = 200_000;

interface Pending {
  readonly id: number;
  readonly effects: readonly Effect[];
  readonly signal: AbortSignal;
  resolve(result: SkillCallResult): void;
}

export class SkillProcess {
  #box: RunningSandbox | undefined;
  #starting: Promise<RunningSandbox | SandboxFailure> | undefined;
  #buffer = '';
  #nextId = 1;
  #pending: Pending | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #idle: NodeJS.Timeout | undefined;
  #stopReason: string | undefined;

  constructor(private readonly options: SkillProcessOptions) {}

  /** Runs one tool call; never throws. `effects` are the ones the gate evaluated and allowed. */
  call(tool: string, input: unknown, effects: readonly Effect[], signal: AbortSignal): Promise<SkillCallResult> {
    const run = this.#queue.then(() => this.#call(tool, input, effects, signal));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Stops the process now, if it runs. */
  stop(): void {
    clearTimeout(this.#idle);
    this.#box?.stop();
    this.#box = undefined;
    this.#starting = undefined;
  }

  get running(): boolean {
    return this.#box !== undefined;
  }

  async #call(tool: string, input: unknown, effects: readonly Effect[], signal: AbortSignal): Promise<SkillCallResult> {
    clearTimeout(this.#idle);
    const box = await this.#ensureStarted();
    if ('ok' in box) return { ok: false, message: `Skill ${this.options.skill} could not start: ${box.message}` };
    const id = this.#nextId++;
    const timeoutMs = this.options.limits.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const result = await new Promise<SkillCallResult>((resolve) => {
      const timer = setTimeout(() => this.#fail(`it did not answer within ${timeoutMs} ms and was stopped`), timeoutMs);
      const onAbort = () => this.#fail('the call was cancelled');
      signal.addEventListener('abort', onAbort, { once: true });
      this.#pending = {
        id,
        effects,
        signal,
        resolve: (value) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          this.#pending = undefined;
          resolve(value);
        },
      };
      this.#send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: input } });
    });
    if (this.#box) this.#idle = setTimeout(() => this.stop(), this.options.idleMs ?? DEFAULT_IDLE_MS).unref();
    return result;
  }

  /** Ends the pending call with an error and stops the process (it is in an unknown state). */
  #fail(reason: string): void {
    const pending = this.#pending;
    this.stop();
    this.options.activity.record({ skill: this.options.skill, summary: `Skill ${this.options.skill} stopped: ${reason}`, decision: 'stopped' });
    pending?.resolve({ ok: false, message: `Skill ${this.options.skill} failed: ${reason}.` });
  }

  async #ensureStarted(): Promise<RunningSandbox | SandboxFailure> {
    if (this.#box) return this.#box;
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<RunningSandbox | SandboxFailure> {
    const { dir, granted } = this.options;
    const verified = (await this.options.verify?.()) ?? { ok: true };
    if (!verified.ok) {
      this.#starting = undefined;
      return { ok: false, code: 'bad-spec', message: verified.message };
    }
    const notProgram = binaryProblem(granted.binaries);
    if (notProgram !== undefined) {
      this.#starting = undefined;
      return { ok: false, code: 'bad-spec', message: notProgram };
    }
    const readOnly = [dir];
    const readWrite: string[] = [];
    for (const file of granted.files) {
      const path = resolvePermissionPath(file.path, dir, file.access);
      if (path !== undefined) (file.access === 'write' ? readWrite : readOnly).push(path);
    }
    const unwritable = writeGrantProblem(readWrite, this.options.protectedDirs ?? []);
    if (unwritable !== undefined) {
      this.#starting = undefined;
      return { ok: false, code: 'bad-spec', message: unwritable };
    }
    const runtime = this.options.runtime === 'node' ? process.execPath : join(dir, this.options.runtime);
    const started = await startSandboxed({
      argv: [runtime, ...this.options.args],
      cwd: dir,
      readOnly,
      readWrite,
      executables: granted.binaries,
      env: { PAVISE_SKILL: this.options.skill, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) },
      limits: {
        processes: granted.binaries.length > 0 ? 32 : 1,
        ...(this.options.limits.cpuSeconds !== undefined ? { cpuSeconds: this.options.limits.cpuSeconds } : {}),
        ...(this.options.limits.memoryBytes !== undefined ? { memoryBytes: this.options.limits.memoryBytes } : {}),
      },
    });
    if (!started.ok) {
      this.#starting = undefined;
      return started;
    }
    const box = started.value;
    this.#box = box;
    this.#buffer = '';
    this.#stopReason = undefined;
    box.onStdout((chunk) => this.#receive(chunk.toString('utf8')));
    void box.ended.then((result) => {
      if (this.#box === box) {
        this.#box = undefined;
        this.#starting = undefined;
      }
      // The sandbox's own wrapper (prlimit, bwrap, sandbox-exec) is the process that exits: name the skill's program instead.
      const why = result.ok
        ? 'it exited'
        : result.code === 'exit' && typeof result.exitCode === 'number'
          ? `its program exited with code ${result.exitCode}`
          : result.message;
      const said = !result.ok && result.stderr ? errorOutput(this.options.secrets.redact(result.stderr)) : '';
      const stderr = said ? ` (${said})` : '';
      if (this.#pending) this.#fail(`${this.#stopReason ?? why}${stderr}`);
    });
    return box;
  }

  #send(message: unknown): void {
    this.#box?.write(`${JSON.stringify(message)}\n`);
  }

  #receive(text: string): void {
    this.#buffer += text;
    if (this.#buffer.length > MAX_LINE_BYTES && !this.#buffer.includes('\n')) {
      this.#stopReason = `it wrote a message longer than ${MAX_LINE_BYTES} bytes`;
      this.#fail(this.#stopReason);
      return;
    }
    let newline: number;
    while ((newline = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, newline).trim();
      this.#buffer = this.#buffer.slice(newline + 1);
      if (line.length > 0) this.#handle(line);
    }
  }

  #handle(line: string): void {
    let message: { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: { message?: unknown } };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      this.#fail('it wrote something that is not JSON-RPC on stdout');
      return;
    }
    if (typeof message.method === 'string') {
      const id = message.id;
      this.#serve(id, message.method, message.params).catch((error: unknown) =>
        this.#send({ jsonrpc: '2.0', id, error: { code: -32603, message: `The host could not serve that request: ${this.options.secrets.redact((error as Error).message)}` } }),
      );
      return;
    }
    const pending = this.#pending;
    if (!pending || message.id !== pending.id) return;
    if (message.error) {
      pending.resolve({ ok: false, message: `Skill ${this.options.skill}: ${String(message.error.message ?? 'error').slice(0, 2000)}` });
      return;
    }
    const result = message.result as { content?: unknown } | undefined;
    const content = typeof result?.content === 'string' ? result.content : JSON.stringify(result ?? null);
    pending.resolve({ ok: true, content: content.length > MAX_RESULT_CHARS ? `${content.slice(0, MAX_RESULT_CHARS)}\n[cut at ${MAX_RESULT_CHARS} characters]` : content });
  }

  async #serve(id: unknown, method: string, params: unknown): Promise<void> {
    const reply = (body: { result: unknown } | { error: { code: number; message: string } }) => this.#send({ jsonrpc: '2.0', id, ...body });
    const pending = this.#pending;
    if (method !== 'net/fetch') return reply({ error: { code: -32601, message: `The host offers only net/fetch, not ${method}.` } });
    if (!pending) return reply({ error: { code: -32000, message: 'net/fetch is only available during a tool call.' } });
    const callHosts = pending.effects.flatMap((effect) => (effect.kind === 'network' ? [effect.host.toLowerCase()] : []));
    const result = await brokerFetch(params, {
      skill: this.options.skill,
      grantedHosts: this.options.granted.network,
      callHosts,
      grantedSecrets: this.options.granted.secrets,
      secrets: this.options.secrets,
      transport: this.options.transport,
      signal: pending.signal,
    });
    if (!result.ok) {
      this.options.activity.record({
        skill: this.options.skill,
        summary: `Refused a network request from skill ${this.options.skill}: ${result.message}`,
        decision: result.code === 'refused' ? 'deny' : 'failed',
        detail: { url: typeof (params as { url?: unknown })?.url === 'string' ? this.options.secrets.redact(String((params as { url: string }).url)).slice(0, 500) : null },
      });
      return reply({ error: { code: result.code === 'refused' ? -32001 : -32002, message: result.message } });
    }
    return reply({ result: result.value });
  }
}
