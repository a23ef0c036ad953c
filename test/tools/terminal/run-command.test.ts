import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigSchema, READ_ONLY_COMMANDS } from '../../../main/common/config-schema.js';
import type { Effect } from '../../../main/common/effects.js';
import { sandboxSupport } from '../../../main/platform/sandbox/sandbox.js';
import { ToolRegistry } from '../../../main/tools/registry.js';
import { CommandResolver } from '../../../main/tools/terminal/command-resolution.js';
import { isReadOnlyArgv } from '../../../main/tools/terminal/read-only-commands.js';
import { COMMAND_ENV, createTerminalTools } from '../../../main/tools/terminal/terminal-tools.js';
import { zodSource } from '../../../main/tools/tool.js';

const linux = process.platform === 'linux' && sandboxSupport().ok;
const ALL = [...READ_ONLY_COMMANDS];

describe('the read-only command list, matched on argv', () => {
  it('lets plain reads through', () => {
    expect(isReadOnlyArgv('ls', ['-la'], ALL)).toBe(true);
    expect(isReadOnlyArgv('grep', ['-rn', 'TODO', '.'], ALL)).toBe(true);
    expect(isReadOnlyArgv('find', ['.', '-name', '*.txt'], ALL)).toBe(true);
    expect(isReadOnlyArgv('git', ['log', '--oneline', '-5'], ALL)).toBe(true);
    expect(isReadOnlyArgv('git', ['diff', '--stat'], ALL)).toBe(true);
  });
  it('refuses find actions that run, delete or write, and git options that configure, write or run', () => {
    for (const action of ['-exec', '-execdir', '-delete', '-ok', '-okdir', '-fprint', '-fprint0', '-fprintf', '-fls']) {
      expect(isReadOnlyArgv('find', ['.', action, 'x'], ALL), action).toBe(false);
    }
    expect(isReadOnlyArgv('git', ['-c', 'core.pager=sh', 'log'], ALL)).toBe(false);
    expect(isReadOnlyArgv('git', ['log', '-c', 'x'], ALL)).toBe(false);
    expect(isReadOnlyArgv('git', ['diff', '--output=/tmp/x'], ALL)).toBe(false);
    expect(isReadOnlyArgv('git', ['diff', '--ext-diff'], ALL)).toBe(false);
    expect(isReadOnlyArgv('git', ['log', '-p'], ALL)).toBe(false);
    expect(isReadOnlyArgv('git', ['push'], ALL)).toBe(false);
    expect(isReadOnlyArgv('git', ['--git-dir=/x', 'status'], ALL)).toBe(false);
    expect(isReadOnlyArgv('rm', ['-rf', '.'], ALL)).toBe(false);
    // A string is never globbed: "ls; rm -rf ." is one odd program name, not ls.
    expect(isReadOnlyArgv('ls; rm -rf .', [], ALL)).toBe(false);
  });
  it('is only tightened by config: the owner may drop names, never add one', () => {
    expect(isReadOnlyArgv('git', ['status'], ['ls'])).toBe(false);
    const config = ConfigSchema.parse({ terminal: { readOnlyCommands: ['ls'] } });
    expect(config.terminal.readOnlyCommands).toEqual(['ls']);
    expect(ConfigSchema.parse({}).terminal.readOnlyCommands).toEqual(ALL);
    const bad = ConfigSchema.safeParse({ terminal: { readOnlyCommands: ['ls', 'rm'] } });
    expect(bad.success).toBe(false);
  });
});

let root: string;
let user: string;
let docs: string;
let shared: string;
let registry: ToolRegistry;
let resolver: CommandResolver;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'pavise-term-'));
  user = join(root, 'home');
  docs = join(user, 'Documents');
  shared = join(user, 'Shared');
  for (const dir of [docs, shared, join(user, '.ssh')]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(user, '.ssh', 'id_ed25519'), 'PRIVATE KEY MATERIAL');
  writeFileSync(join(docs, 'notes.txt'), 'buy milk\nTODO call the dentist\n');
  writeFileSync(join(shared, 'readme.txt'), 'shared, read only\n');
  resolver = new CommandResolver(
    [
      { path: '~/Documents', access: 'read-write' },
      { path: '~/Shared', access: 'read' },
    ],
    user,
    ALL,
  );
  registry = await ToolRegistry.load([zodSource('builtin', createTerminalTools({ resolver, platform: process.platform, limits: { wallMs: 8_000, cpuSeconds: 4 } }))], {
    resolveExecute: (_tool, argv, cwd) => {
      const { problem: _problem, ...rest } = resolver.resolve(argv, cwd);
      return rest;
    },
  });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

type RunInput = { argv: string[]; cwd?: string; network?: boolean };

function evaluate(input: RunInput): Extract<Effect, { kind: 'execute' }> {
  const tool = registry.get('run_command');
  if (!tool) throw new Error('run_command did not register');
  const effect = registry.evaluate(tool, input).effects.find((candidate) => candidate.kind === 'execute');
  if (effect?.kind !== 'execute') throw new Error('no execute effect');
  return effect;
}

/** Evaluates (as the gate does when it asks) and then runs, as the gate does after approval. */
async function run(input: RunInput, effects?: readonly Effect[]) {
  const tool = registry.get('run_command');
  if (!tool) throw new Error('run_command did not register');
  const bound = effects ?? registry.evaluate(tool, input).effects;
  return registry.call(tool, input, { sessionId: 's', callId: 'c', signal: new AbortController().signal, effects: bound });
}

describe('run_command: what the approval binds', () => {
  it('resolves the real program, its SHA-256 and the real working folder; the read-only list only for system programs', () => {
    const effect = evaluate({ argv: ['ls', '-la'], cwd: docs });
    expect(effect.executable).toMatch(/\/ls$/);
    expect(effect.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(effect.cwd).toBe(docs);
    expect(effect.readOnly).toBe(true);
    expect(evaluate({ argv: ['touch', 'x'], cwd: docs }).readOnly).toBeUndefined();
    // A program of the same name inside a granted folder is never the read-only ls.
    writeFileSync(join(docs, 'ls'), '#!/bin/sh\necho pwned\n');
    chmodSync(join(docs, 'ls'), 0o755);
    const local = evaluate({ argv: ['./ls'], cwd: docs });
    expect(local.executable).toBe(join(docs, 'ls'));
    expect(local.readOnly).toBeUndefined();
  });

  it('refuses a working folder outside the grants, or a link out of one, with the reason', async () => {
    const outside = await run({ argv: ['ls'], cwd: join(user, '.ssh') });
    expect(outside.isError).toBe(true);
    expect(outside.content).toContain('outside the folders the owner granted');
    symlinkSync(join(user, '.ssh'), join(docs, 'keys'));
    const linked = await run({ argv: ['ls'], cwd: join(docs, 'keys') });
    expect(linked.isError).toBe(true);
    expect(linked.content).toContain('outside the folders the owner granted');
    const missing = await run({ argv: ['no-such-program-here'], cwd: docs });
    expect(missing.content).toContain('No program "no-such-program-here"');
  });

  it('binds network access: recorded only when asked, never read-only, on the card, and an approval without it does not run it with it', async () => {
    const tool = registry.get('run_command');
    if (!tool) throw new Error('run_command did not register');
    const plain = evaluate({ argv: ['ls'], cwd: docs });
    expect('network' in plain).toBe(false);
    expect('network' in evaluate({ argv: ['ls'], cwd: docs, network: false })).toBe(false);
    const networked = evaluate({ argv: ['ls'], cwd: docs, network: true });
    expect(networked.network).toBe(true);
    expect(networked.readOnly).toBeUndefined();
    expect(registry.evaluate(tool, { argv: ['ls'], cwd: docs, network: true }).title).toBe(`Run ls in ${docs} WITH NETWORK ACCESS`);
    expect(registry.evaluate(tool, { argv: ['ls'], cwd: docs, network: false }).title).toBe(`Run ls in ${docs}`);
    // The effects approved without network do not run the call with network, nor the other way round.
    const withNet = await run({ argv: ['ls'], cwd: docs, network: true }, [{ ...plain }]);
    expect(withNet.isError).toBe(true);
    expect(withNet.content).toContain('approved without network access');
    const withoutNet = await run({ argv: ['touch', 'x'], cwd: docs }, [evaluate({ argv: ['touch', 'x'], cwd: docs, network: true })]);
    expect(withoutNet.isError).toBe(true);
    expect(withoutNet.content).toContain('approved with network access');
    expect(existsSync(join(docs, 'x'))).toBe(false);
  });

  it('runs nothing without the effects the gate evaluated', async () => {
    const tool = registry.get('run_command');
    if (!tool) throw new Error('run_command did not register');
    const result = await registry.call(tool, { argv: ['ls'] }, { sessionId: 's', callId: 'c2', signal: new AbortController().signal });
    expect(result.isError).toBe(true);
    expect(result.content).toContain('did not pass the permission gate');
  });
});

describe.runIf(linux)('run_command under real bwrap: escape attempts', () => {
  let server: Server;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    server = createServer((socket) => {
      connections++;
      socket.end('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('runs a read-only command and labels its output as untrusted file content', async () => {
    const result = await run({ argv: ['grep', '-rn', 'TODO', '.'], cwd: docs });
    expect(result.isError).not.toBe(true);
    expect(result.content).toContain('notes.txt:2:TODO call the dentist');
    expect(result.provenance).toEqual({ kind: 'untrusted', source: 'file', detail: `output of grep in ${docs}` });
  });

  it('has no network: the host loopback is unreachable', async () => {
    const result = await run({ argv: [process.execPath, '-e', `require('net').connect(${port}, '127.0.0.1').on('error', (e) => console.log('ERR', e.code)).on('connect', () => console.log('CONNECTED'))`], cwd: docs });
    expect(result.content).toMatch(/ERR (ECONNREFUSED|ENETUNREACH)/);
    expect(result.content).not.toMatch(/^CONNECTED$/m);
    expect(connections).toBe(0);
  });

  it('with network granted for the call, reaches a service on the host; the same command without it cannot', async () => {
    const script = `require('net').connect(${port}, '127.0.0.1').on('error', (e) => console.log('ERR', e.code)).on('data', (d) => console.log('GOT', String(d)))`;
    const before = connections;
    const granted = await run({ argv: [process.execPath, '-e', script], cwd: docs, network: true });
    expect(granted.isError, granted.content).not.toBe(true);
    expect(granted.content).toContain('GOT hello');
    expect(connections).toBe(before + 1);
    const refused = await run({ argv: [process.execPath, '-e', script], cwd: docs });
    expect(refused.content).toMatch(/ERR (ECONNREFUSED|ENETUNREACH)/);
    expect(connections).toBe(before + 1);
    // Network does not loosen anything else: still no listening, still no writes outside the grants.
    const listen = await run({ argv: [process.execPath, '-e', `require('net').createServer().listen(0, '127.0.0.1').on('error', (e) => console.log('ERR', e.code)).on('listening', () => { console.log('LISTENING'); process.exit(0); })`], cwd: docs, network: true });
    expect(listen.content).toMatch(/ERR (EPERM|EACCES)/);
    expect(listen.content).not.toMatch(/^LISTENING$/m);
    const write = await run({ argv: [process.execPath, '-e', `try { require('fs').writeFileSync(${JSON.stringify(join(user, 'x.txt'))}, 'x'); console.log('WROTE') } catch (e) { console.log('ERR', e.code) }`], cwd: docs, network: true });
    expect(write.content).toMatch(/ERR (EROFS|EACCES|ENOENT|EPERM)/);
  });

  it('writes only inside read-write grants: not in a read grant, not in the home folder; a read-only command writes nowhere', async () => {
    const script = (path: string) => `try { require('fs').writeFileSync(${JSON.stringify(path)}, 'x'); console.log('WROTE') } catch (e) { console.log('ERR', e.code) }`;
    const inside = await run({ argv: [process.execPath, '-e', script(join(docs, 'made.txt'))], cwd: docs });
    expect(inside.content).toContain('WROTE');
    expect(readFileSync(join(docs, 'made.txt'), 'utf8')).toBe('x');
    for (const target of [join(shared, 'x.txt'), join(user, 'x.txt'), join(root, 'x.txt')]) {
      const outside = await run({ argv: [process.execPath, '-e', script(target)], cwd: docs });
      expect(outside.content, target).toMatch(/ERR (EROFS|EACCES|ENOENT|EPERM)/);
      expect(existsSync(target), target).toBe(false);
    }
  });

  it('cannot read ~/.ssh, directly or through a symlink planted in a granted folder', async () => {
    const direct = await run({ argv: ['cat', join(user, '.ssh', 'id_ed25519')], cwd: docs });
    expect(direct.content).not.toContain('PRIVATE KEY MATERIAL');
    expect(direct.content).toContain('No such file');
    symlinkSync(join(user, '.ssh', 'id_ed25519'), join(docs, 'innocent.txt'));
    const linked = await run({ argv: ['cat', 'innocent.txt'], cwd: docs });
    expect(linked.content).not.toContain('PRIVATE KEY MATERIAL');
    expect(linked.content).toMatch(/No such file|Permission denied/);
  });

  it('sees none of the host environment: secrets in process.env stay out', async () => {
    process.env.PAVISE_TEST_SECRET_TOKEN = 'sk-canary-terminal-0451';
    try {
      const result = await run({ argv: [process.execPath, '-e', 'console.log(JSON.stringify(process.env))'], cwd: docs });
      expect(result.content).not.toContain('sk-canary-terminal-0451');
      expect(result.content).not.toContain('PAVISE_TEST_SECRET_TOKEN');
      const env = JSON.parse(result.content.split('\n')[2] ?? '{}') as Record<string, string>;
      expect(Object.keys(env).sort()).toEqual([...Object.keys(COMMAND_ENV), 'PWD', 'TMPDIR'].sort());
    } finally {
      delete process.env.PAVISE_TEST_SECRET_TOKEN;
    }
  });

  it('does not run a program swapped after approval', async () => {
    const tools = join(docs, 'bin');
    mkdirSync(tools);
    copyFileSync('/usr/bin/true', join(tools, 'tool'));
    chmodSync(join(tools, 'tool'), 0o755);
    const input = { argv: ['./bin/tool'], cwd: docs };
    const approved = registry.evaluate(registry.get('run_command') as NonNullable<ReturnType<ToolRegistry['get']>>, input).effects;
    // The approval was for `true`; the file is replaced by a program that writes a marker.
    copyFileSync('/usr/bin/touch', join(tools, 'tool'));
    const result = await run({ argv: ['./bin/tool', 'pwned'], cwd: docs }, approved.map((effect) => (effect.kind === 'execute' ? { ...effect, argv: ['./bin/tool', 'pwned'] } : effect)));
    expect(result.isError).toBe(true);
    expect(result.content).toContain('changed since it was approved');
    expect(existsSync(join(docs, 'pwned'))).toBe(false);
    // The gate's own re-evaluation sees the new hash too, so the approval's hash no longer matches.
    const now = evaluate({ ...input });
    const then = approved.find((effect) => effect.kind === 'execute');
    expect(then?.kind === 'execute' && then.sha256).not.toBe(now.sha256);
  });

  it('stops a command at its time cap', async () => {
    const started = Date.now();
    const result = await run({ argv: [process.execPath, '-e', 'while (true) {}'], cwd: docs });
    expect(result.isError).toBe(true);
    expect(result.content).toMatch(/stopped: .*(CPU|longer than|limit)/i);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);
});
