import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runProcess, startProcess } from '../../main/platform/run-process.js';
import { until } from '../helpers/wait.js';

/** Real child processes: the test's own Node runs small scripts given with -e. */
const NODE = process.execPath;
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pavise-run-process-test-'));
  dirs.push(dir);
  return dir;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

describe('runProcess', () => {
  it('passes argv untouched, without a shell, with cwd, env and stdin', async () => {
    const dir = scratch();
    const argument = `$(touch ${dir}/pwned) \`id\` "; rm -rf ~" '$HOME'`;
    const result = await runProcess(
      NODE,
      [
        '-e',
        "let input = ''; process.stdin.on('data', (d) => (input += d)).on('end', () => process.stdout.write(JSON.stringify({ arg: process.argv[1], cwd: process.cwd(), v: process.env.PAVISE_PROBE, input })));",
        argument,
      ],
      { cwd: dir, env: { PAVISE_PROBE: 'probe value' }, input: 'from stdin' },
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(JSON.parse(result.value.stdout)).toEqual({ arg: argument, cwd: dir, v: 'probe value', input: 'from stdin' });
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('reports a missing executable as not-found', async () => {
    const result = await runProcess('/nonexistent/pavise-no-such-program', []);
    expect(result).toMatchObject({ ok: false, code: 'not-found', command: '/nonexistent/pavise-no-such-program' });
  });

  it('reports a file that cannot be executed as spawn-failed with its errno', async () => {
    const path = join(scratch(), 'not-executable');
    writeFileSync(path, '#!/bin/sh\n', { mode: 0o644 });
    expect(await runProcess(path, [])).toMatchObject({ ok: false, code: 'spawn-failed', errno: 'EACCES' });
  });

  it('reports a non-zero exit with its code and output', async () => {
    const result = await runProcess(NODE, ['-e', "process.stdout.write('out'); process.stderr.write('err'); process.exit(3)"]);
    expect(result).toMatchObject({ ok: false, code: 'exit', exitCode: 3, signal: null, stdout: 'out', stderr: 'err' });
  });

  it('reports death by a signal as an exit with that signal', async () => {
    const result = await runProcess(NODE, ['-e', "process.kill(process.pid, 'SIGKILL')"]);
    expect(result).toMatchObject({ ok: false, code: 'exit', exitCode: null, signal: 'SIGKILL' });
  });

  it('stops a child that runs too long and reports a timeout', async () => {
    const dir = scratch();
    const pidFile = join(dir, 'pid');
    const started = Date.now();
    const result = await runProcess(NODE, ['-e', `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000)`], {
      timeoutMs: 1000,
    });
    expect(result).toMatchObject({ ok: false, code: 'timeout', timeoutMs: 1000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(false);
  });

  it('stops a child when the signal aborts, and starts nothing for an aborted signal', async () => {
    const controller = new AbortController();
    const running = runProcess(NODE, ['-e', "process.stdout.write('started'); setInterval(() => {}, 1000)"], { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    expect(await running).toMatchObject({ ok: false, code: 'aborted' });

    const dir = scratch();
    const marker = join(dir, 'ran');
    const result = await runProcess(NODE, ['-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`], { signal: controller.signal });
    expect(result).toMatchObject({ ok: false, code: 'aborted' });
    expect(existsSync(marker)).toBe(false);
  });

  it.each(['stdout', 'stderr'] as const)('stops a child that writes more than the %s cap', async (stream) => {
    const result = await runProcess(NODE, ['-e', `const b = 'x'.repeat(65536); setInterval(() => process.${stream}.write(b), 1)`], {
      maxStdoutBytes: 100_000,
      maxStderrBytes: 100_000,
      timeoutMs: 20_000,
    });
    expect(result).toMatchObject({ ok: false, code: 'output-limit', stream, limitBytes: 100_000 });
  });

  it('writes temporary files into a private folder, passes their paths, and removes the folder on success and failure', async () => {
    const parent = scratch();
    const script = "const fs = require('fs'); const p = process.argv[1]; process.stdout.write(JSON.stringify({ text: fs.readFileSync(p, 'utf8'), file: fs.statSync(p).mode & 0o777, dir: fs.statSync(require('path').dirname(p)).mode & 0o777 })); process.exit(Number(process.argv[2]))";
    for (const exit of ['0', '4']) {
      const result = await runProcess(NODE, (paths) => ['-e', script, paths['note.txt'] ?? '', exit], {
        tempFiles: { 'note.txt': 'hello' },
        tempDirParent: parent,
        tempDirPrefix: 'pavise-probe-',
      });
      const stdout = result.ok ? result.value.stdout : result.code === 'exit' ? result.stdout : '';
      expect(JSON.parse(stdout)).toEqual({ text: 'hello', file: 0o600, dir: 0o700 });
      expect(result.ok).toBe(exit === '0');
      expect(readdirSync(parent)).toEqual([]);
    }
    const missing = await runProcess('/nonexistent/pavise-no-such-program', (paths) => [paths['a'] ?? ''], { tempFiles: { a: 'x' }, tempDirParent: parent });
    expect(missing).toMatchObject({ ok: false, code: 'not-found' });
    expect(readdirSync(parent)).toEqual([]);
  });

  it('refuses a temporary file name that is a path', async () => {
    const parent = scratch();
    const result = await runProcess(NODE, ['-e', ''], { tempFiles: { '../escape': 'x' }, tempDirParent: parent });
    expect(result).toMatchObject({ ok: false, code: 'temp-files', message: expect.stringMatching(/not a plain file name/) });
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('startProcess', () => {
  it('streams stdin and stdout of a long-running child and reports how it ended', async () => {
    // Each write is answered before the next is sent: two writes close together can reach the child as one chunk.
    // The child exits only once its last answer has left (process.exit() right after a write to a pipe can drop it).
    const child = startProcess(NODE, ['-e', "process.stdin.on('data', (d) => process.stdout.write('got ' + d, () => { if (String(d).includes('bye')) process.exit(0); }));"]);
    const chunks: string[] = [];
    child.onStdout((chunk) => chunks.push(chunk.toString()));
    expect(child.write('hello')).toBe(true);
    await until(() => chunks.join('') === 'got hello', 'the answer to hello', { output: () => chunks.join('') });
    child.write('bye');
    expect(await child.ended).toMatchObject({ ok: true });
    expect(chunks.join('')).toBe('got hellogot bye');
    expect(child.write('late')).toBe(false);
  });

  it('stops a child that streams past its output cap, and one that is stopped', async () => {
    const flood = startProcess(NODE, ['-e', "setInterval(() => process.stdout.write('x'.repeat(10000)), 1)"], { maxStdoutBytes: 50_000 });
    expect(await flood.ended).toMatchObject({ ok: false, code: 'output-limit', stream: 'stdout' });
    const idle = startProcess(NODE, ['-e', 'setInterval(() => {}, 1000)']);
    idle.stop();
    expect(await idle.ended).toMatchObject({ ok: false, code: 'aborted' });
  });

  it('reports a missing program through ended, without throwing', async () => {
    const missing = startProcess('/nonexistent/pavise-no-such-program', []);
    expect(await missing.ended).toMatchObject({ ok: false, code: 'not-found' });
  });
});

describe('extraInputs', () => {
  it('hands bytes to the child on descriptor 3', async () => {
    const result = await runProcess(NODE, ['-e', "process.stdout.write(require('fs').readFileSync(3, 'utf8'))"], { extraInputs: [new TextEncoder().encode('on fd 3')] });
    expect(result).toMatchObject({ ok: true, value: { stdout: 'on fd 3' } });
  });
});
