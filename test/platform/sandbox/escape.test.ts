import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sandboxedSpawn, sandboxSupport, startSandboxed } from '../../../main/platform/sandbox/sandbox.js';
import { FAKE_ANTHROPIC_KEY } from '../../helpers/cli.js';

/** Real bwrap, real kernel: each test is a program trying to get out of its box. */
const NODE = process.execPath;
const dirs: string[] = [];
const linux = process.platform === 'linux' && sandboxSupport().ok;

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pavise-sandbox-test-'));
  dirs.push(dir);
  return dir;
}

async function box(script: string, spec: Omit<Parameters<typeof sandboxedSpawn>[0], 'argv'> = {}) {
  return sandboxedSpawn({ argv: [NODE, '-e', script], ...spec });
}

/** Runs `script`, which prints JSON; the test reads what the program inside saw. */
async function probe(script: string, spec: Omit<Parameters<typeof sandboxedSpawn>[0], 'argv'> = {}): Promise<Record<string, unknown>> {
  const result = await box(`const out = {}; const fs = require('fs'); const attempt = (name, fn) => { try { out[name] = fn(); } catch (e) { out[name] = 'ERR ' + e.code; } }; ${script}; process.stdout.write(JSON.stringify(out));`, spec);
  if (!result.ok) throw new Error(`the probe itself failed: ${result.message} ${result.stderr ?? ''}`);
  return JSON.parse(result.value.stdout) as Record<string, unknown>;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe.runIf(linux)('the sandbox under real bwrap', () => {
  let server: Server;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    server = createServer((socket) => {
      connections++;
      socket.end('hello from outside');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('has no network: a server on the host loopback and the internet are unreachable', async () => {
    const result = await box(
      `const net = require('net'); const tries = [['127.0.0.1', ${port}], ['1.1.1.1', 80]]; let left = tries.length; const out = {};
       for (const [host, p] of tries) { const s = net.connect(p, host); s.on('connect', () => { out[host] = 'connected'; s.destroy(); if (!--left) console.log(JSON.stringify(out)); });
         s.on('error', (e) => { out[host] = e.code; if (!--left) console.log(JSON.stringify(out)); }); }`,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const seen = JSON.parse(result.value.stdout) as Record<string, string>;
    expect(seen['127.0.0.1']).toMatch(/ECONNREFUSED|ENETUNREACH/);
    expect(seen['1.1.1.1']).toMatch(/ENETUNREACH|EAI_AGAIN|ECONNREFUSED/);
    expect(connections).toBe(0);
  });

  it('cannot listen, not even on its own loopback', async () => {
    const result = await box(`require('net').createServer().listen(0, '127.0.0.1').on('error', (e) => console.log(e.code)).on('listening', () => { console.log('LISTENING'); process.exit(0); });`);
    expect(result.ok && result.value.stdout.trim()).toMatch(/EPERM|EADDRNOTAVAIL/);
  });

  it('writes only where it was granted; read-only grants and the rest of the disk stay untouched', async () => {
    const writable = scratch();
    const readable = scratch();
    writeFileSync(join(readable, 'data.txt'), 'original');
    const outside = scratch();
    const seen = await probe(
      `attempt('granted', () => { fs.writeFileSync(${JSON.stringify(join(writable, 'out.txt'))}, 'ok'); return 'written'; });
       attempt('readOnly', () => { fs.writeFileSync(${JSON.stringify(join(readable, 'data.txt'))}, 'changed'); return 'written'; });
       attempt('outside', () => { fs.writeFileSync(${JSON.stringify(join(outside, 'evil.txt'))}, 'x'); return 'written'; });
       attempt('temp', () => { fs.writeFileSync(require('path').join(process.env.TMPDIR, 't'), 'x'); return 'written'; });
       attempt('usr', () => { fs.writeFileSync('/usr/lib/pavise-evil', 'x'); return 'written'; });`,
      { readWrite: [writable], readOnly: [readable] },
    );
    expect(seen).toEqual({ granted: 'written', readOnly: 'ERR EROFS', outside: 'ERR ENOENT', temp: 'written', usr: 'ERR EROFS' });
    expect(readFileSync(join(writable, 'out.txt'), 'utf8')).toBe('ok');
    expect(readFileSync(join(readable, 'data.txt'), 'utf8')).toBe('original');
  });

  it('sees no home, no ~/.ssh, no /etc/passwd, no shell and not another skill\'s folder', async () => {
    const mine = scratch();
    const other = scratch();
    writeFileSync(join(other, 'secret-notes.md'), 'the other skill');
    const fakeHome = scratch();
    mkdirSync(join(fakeHome, '.ssh'));
    writeFileSync(join(fakeHome, '.ssh', 'id_ed25519'), 'PRIVATE KEY');
    const seen = await probe(
      `for (const [name, path] of Object.entries(${JSON.stringify({
        realSsh: join(homedir(), '.ssh', 'id_ed25519'),
        fakeSsh: join(fakeHome, '.ssh', 'id_ed25519'),
        passwd: '/etc/passwd',
        shadow: '/etc/shadow',
        other: join(other, 'secret-notes.md'),
        hostEnviron: '/proc/1/environ',
      })})) attempt(name, () => fs.readFileSync(path, 'utf8').slice(0, 40));
       attempt('sh', () => fs.existsSync('/bin/sh') || fs.existsSync('/usr/bin/sh'));
       attempt('mine', () => fs.readdirSync(${JSON.stringify(mine)}).length);`,
      { readOnly: [mine] },
    );
    expect(seen).toMatchObject({ realSsh: 'ERR ENOENT', fakeSsh: 'ERR ENOENT', passwd: 'ERR ENOENT', shadow: 'ERR ENOENT', other: 'ERR ENOENT', sh: false, mine: 0 });
    // pid 1 in the box is bwrap's own init, whose environment is empty: the host's environment is not there.
    expect(String(seen.hostEnviron)).not.toContain('PATH=');
  });

  it('gets only the environment it is given: no API keys from the host', async () => {
    process.env.ANTHROPIC_API_KEY = FAKE_ANTHROPIC_KEY;
    try {
      const seen = await probe(`out.env = process.env;`, { env: { SKILL_MODE: 'test' } });
      expect(Object.keys(seen.env as object).sort()).toEqual(['PWD', 'SKILL_MODE', 'TMPDIR']);
      expect(JSON.stringify(seen)).not.toContain(FAKE_ANTHROPIC_KEY);
    } finally {
      delete process.env.ANTHROPIC_API_KEY;
    }
  });

  it('is an unprivileged user with no capabilities even when the host is root', async () => {
    const seen = await probe(`out.status = fs.readFileSync('/proc/self/status', 'utf8').split('\\n').filter((l) => /^(Uid|CapEff|CapBnd|NoNewPrivs|Seccomp):/.test(l));`);
    const lines = (seen.status as string[]).map((line) => line.replace(/\s+/g, ' '));
    expect(lines).toContain('Uid: 65534 65534 65534 65534');
    expect(lines).toContain('CapEff: 0000000000000000');
    expect(lines).toContain('Seccomp: 2');
  });

  it('bounds a fork bomb: without a process grant not one child starts, and the call still ends', async () => {
    const result = await box(
      `const cp = require('child_process'); let started = 0, refused = 0;
       for (let i = 0; i < 200; i++) { try { cp.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']).on('error', () => {}); started++; } catch { refused++; } }
       try { cp.execFileSync('/bin/sh', ['-c', 'echo pwned']); } catch (e) { refused++; }
       setTimeout(() => { console.log(JSON.stringify({ started, refused, children: fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).length })); process.exit(0); }, 200);
       const fs = require('fs');`,
      { limits: { wallMs: 10_000 } },
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const seen = JSON.parse(result.value.stdout) as { started: number; refused: number; children: number };
    // Node reports a failed spawn asynchronously; what counts is that no process besides init and the program exists.
    expect(seen.children).toBeLessThanOrEqual(2);
  });

  it('lets a box with a process grant start children (the control for the fork test above)', async () => {
    const result = await box(
      `const cp = require('child_process'); for (let i = 0; i < 3; i++) cp.spawn(process.execPath, ['-e', 'setTimeout(() => {}, 400)']);
       setTimeout(() => { console.log(require('fs').readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).length); process.exit(0); }, 200);`,
      { limits: { processes: 8, wallMs: 10_000 } },
    );
    expect(result.ok && Number(result.value.stdout)).toBeGreaterThanOrEqual(4);
  });

  it('stops a program that runs forever at its wall-clock limit, and nothing of it is left', async () => {
    const marker = `pavise-forever-${process.pid}-${Date.now()}`;
    const started = Date.now();
    const result = await box(`setInterval(() => {}, 1000); // ${marker}`, { limits: { wallMs: 700 } });
    expect(result).toMatchObject({ ok: false, code: 'wall-limit' });
    expect(result.ok || result.message).toMatch(/700 ms/);
    expect(Date.now() - started).toBeLessThan(10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { readdirSync } = await import('node:fs');
    const alive = readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  });

  it('stops a CPU burner at its CPU limit and a memory hog at its memory limit', async () => {
    expect(await box('for (;;) {}', { limits: { cpuSeconds: 1, wallMs: 20_000 } })).toMatchObject({ ok: false, code: 'cpu-limit' });
    expect(await box('const a = []; for (;;) a.push(Buffer.alloc(1e6, 1));', { limits: { memoryBytes: 768 * 1024 * 1024, wallMs: 20_000 } })).toMatchObject({
      ok: false,
      code: 'memory-limit',
    });
  });

  it('caps output', async () => {
    const result = await box(`const chunk = 'x'.repeat(65536); for (let i = 0; i < 100; i++) process.stdout.write(chunk);`, { limits: { outputBytes: 100_000 } });
    expect(result).toMatchObject({ ok: false, code: 'output-limit' });
  });

  it('refuses a bad spec with a message that says what to do', async () => {
    expect(await sandboxedSpawn({ argv: ['node', '-e', '1'] })).toMatchObject({ ok: false, code: 'bad-spec', message: expect.stringMatching(/absolute path/) });
    expect(await sandboxedSpawn({ argv: [NODE], readOnly: ['relative/dir'] })).toMatchObject({ ok: false, code: 'bad-spec', message: expect.stringMatching(/absolute/) });
    expect(await sandboxedSpawn({ argv: [NODE], readOnly: ['/nonexistent/pavise-dir'] })).toMatchObject({ ok: false, code: 'bad-spec', message: expect.stringMatching(/does not exist/) });
    expect(await sandboxedSpawn({ argv: [NODE], limits: { cpuSeconds: 0 } })).toMatchObject({ ok: false, code: 'bad-spec', message: expect.stringMatching(/cpuSeconds/) });
  });

  it('keeps a long-running box talking over stdio, and removes its temp folder when it ends', async () => {
    const started = await startSandboxed({
      argv: [NODE, '-e', `process.stdin.on('data', (d) => process.stdout.write('echo:' + d + '|' + process.env.TMPDIR + '\\n'));`],
    });
    expect(started.ok).toBe(true);
    if (!started.ok) return;
    const box = started.value;
    const line = new Promise<string>((resolve) => box.onStdout((chunk) => resolve(chunk.toString())));
    box.write('ping');
    const [echo, tmp] = (await line).trim().split('|');
    expect(echo).toBe('echo:ping');
    box.stop();
    expect(await box.ended).toMatchObject({ ok: false, code: 'aborted' });
    const { existsSync } = await import('node:fs');
    expect(existsSync(tmp as string)).toBe(false);
  });
});
