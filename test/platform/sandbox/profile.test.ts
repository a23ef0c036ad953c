import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bwrapArgs, bwrapRuleArgs } from '../../../main/platform/sandbox/bwrap-args.js';
import { type SandboxRule, sandboxRules } from '../../../main/platform/sandbox/rules.js';
import { MACOS_LIMITS_SCRIPT, macosLimitArgs } from '../../../main/platform/sandbox/macos-limits.js';
import { planSandbox } from '../../../main/platform/sandbox/sandbox.js';
import { quote, seatbeltProfile, seatbeltRuleLines } from '../../../main/platform/sandbox/seatbelt-profile.js';
import { seccompProgram } from '../../../main/platform/sandbox/seccomp.js';

/** The macOS profile cannot run here; it is generated from the same rules as the bwrap arguments and checked as text. */
const rules = sandboxRules({
  systemPaths: ['/usr/lib', '/System/Library'],
  executables: ['/opt/node/bin/node'],
  readOnly: ['/Users/me/Pavise/skills/weather'],
  readWrite: ['/Users/me/Documents/Granted "quoted" folder'],
  tempDir: '/private/var/folders/xy/T/pavise-box-1',
  allowFork: false,
});

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the sandbox rules, rendered for bwrap and for sandbox-exec', () => {
  it('maps every rule to a group on both platforms, one for one', () => {
    for (const rule of rules) {
      expect(bwrapRuleArgs(rule, 3).length, rule.kind).toBeGreaterThan(0);
      expect(seatbeltRuleLines(rule).length, rule.kind).toBeGreaterThan(0);
    }
    const kinds = rules.map((rule) => rule.kind);
    expect(kinds).toEqual(['system', 'system', 'devices', 'exec', 'read', 'write', 'temp', 'no-network', 'no-listen', 'isolated-processes', 'processes']);
  });

  it('gives each path the same access on both platforms', () => {
    const expectations: [SandboxRule['kind'], string, RegExp][] = [
      ['system', '--ro-bind-try', /^\(allow file-read\* \(subpath /],
      ['exec', '--ro-bind', /^\(allow file-read\* process-exec \(literal /],
      ['read', '--ro-bind', /^\(allow file-read\* \(subpath /],
      ['write', '--bind', /^\(allow file-read\* file-write\* \(subpath /],
      ['temp', '--bind', /^\(allow file-read\* file-write\* \(subpath /],
    ];
    for (const [kind, flag, line] of expectations) {
      for (const rule of rules.filter((item) => item.kind === kind)) {
        const path = (rule as { path: string }).path;
        expect(bwrapRuleArgs(rule, 3).slice(0, 3)).toEqual([flag, path, path]);
        const lines = seatbeltRuleLines(rule);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(line);
        expect(lines[0]).toContain(quote(path));
      }
    }
  });

  it('denies by default on macOS: no network, no listening, no fork unless granted, nothing else readable', () => {
    const profile = seatbeltProfile(rules);
    expect(profile.startsWith('(version 1)\n(deny default)\n')).toBe(true);
    expect(profile).toContain('(deny network*)');
    expect(profile).toContain('(deny network-bind network-inbound)');
    expect(profile).toContain('(deny process-fork)');
    expect(profile).not.toContain('(allow process-fork)');
    expect(profile).not.toMatch(/\(allow network/);
    expect(profile).not.toMatch(/\(subpath "\/Users\/me"\)|\.ssh|Keychains/);
    // The only allows are the fixed start-up lines and those the rules produced.
    const ruleLines = new Set(rules.flatMap(seatbeltRuleLines));
    const allows = profile.split('\n').filter((line) => line.startsWith('(allow'));
    expect(allows.filter((line) => !ruleLines.has(line))).toEqual([
      '(allow file-read-metadata)',
      '(allow sysctl-read)',
      '(allow mach-lookup (global-name "com.apple.system.notification_center") (global-name "com.apple.system.opendirectoryd.libinfo"))',
    ]);
    const granted = sandboxRules({ systemPaths: [], executables: ['/bin/x'], readOnly: [], readWrite: [], tempDir: '/t', allowFork: true });
    expect(seatbeltProfile(granted)).toContain('(allow process-fork)');
    expect(seatbeltProfile(granted)).not.toContain('(deny process-fork)');
  });

  it('grants network per box, all or nothing, on both platforms: outbound only, listening still denied', () => {
    const networked = sandboxRules({ systemPaths: [], executables: ['/usr/bin/git'], readOnly: [], readWrite: ['/Users/me/project'], tempDir: '/t', allowFork: true, network: true });
    const kinds = networked.map((rule) => rule.kind);
    expect(kinds).toContain('network');
    expect(kinds).not.toContain('no-network');
    expect(kinds).toContain('no-listen');
    expect(rules.map((rule) => rule.kind)).not.toContain('network');

    const args = bwrapArgs(networked, { cwd: '/Users/me/project', env: {}, argv: ['/usr/bin/git', 'pull'], seccompFd: 3 });
    expect(args).toContain('--share-net');
    expect(args).not.toContain('--unshare-net');
    expect(args.slice(args.indexOf('--seccomp'), args.indexOf('--seccomp') + 2)).toEqual(['--seccomp', '3']);

    const profile = seatbeltProfile(networked);
    expect(profile).toContain('(allow network-outbound (remote ip "*:*"))');
    // Unix sockets are not the network: only the resolver's, by its literal path; a bare allow would admit every one.
    expect(profile).not.toMatch(/\(allow network-outbound\)|\(allow network-outbound \(remote unix/);
    expect(profile.match(/\(allow network-outbound[^\n]*/g)).toEqual(['(allow network-outbound (remote ip "*:*"))', '(allow network-outbound (literal "/private/var/run/mDNSResponder"))']);
    expect(profile).not.toContain('(deny network*)');
    expect(profile).not.toMatch(/\(allow network\*|\(allow network-inbound|\(allow network-bind/);
    // Listening stays denied, after the allow, so it wins for binds and inbound traffic.
    expect(profile.indexOf('(deny network-bind network-inbound)')).toBeGreaterThan(profile.indexOf('(allow network-outbound'));
  });

  it('adds the resolver and certificate files to a box only when it has network', () => {
    const temp = mkdtempSync(join(tmpdir(), 'pavise-plan-'));
    dirs.push(temp);
    const support = { ok: true, mechanism: 'bwrap', command: '/usr/bin/bwrap' } as const;
    const plain = planSandbox({ argv: [process.execPath] }, temp, support);
    const networked = planSandbox({ argv: [process.execPath], network: true }, temp, support);
    if (!plain.ok || !networked.ok) throw new Error('plan failed');
    const systemPaths = (plan: typeof plain) => (plan.ok ? plan.value.rules.flatMap((rule) => (rule.kind === 'system' ? [rule.path] : [])) : []);
    expect(systemPaths(plain)).not.toContain('/etc/resolv.conf');
    expect(systemPaths(networked)).toEqual(expect.arrayContaining(['/etc/resolv.conf', '/etc/hosts', '/etc/ssl']));
    expect(networked.value.args).toContain('--share-net');
    expect(plain.value.args).toContain('--unshare-net');
    const mac = planSandbox({ argv: [process.execPath], network: true }, temp, { ok: true, mechanism: 'sandbox-exec', command: '/usr/bin/sandbox-exec' });
    if (!mac.ok) throw new Error(mac.message);
    expect(mac.value.args.find((arg) => arg.includes('(version 1)'))).toContain('(allow network-outbound (remote ip "*:*"))');
    expect(mac.value.args.find((arg) => arg.includes('(version 1)'))).toContain('(subpath "/private/etc/ssl")');
  });

  it('cannot be broken out of by a path: quotes are escaped and control characters refused', () => {
    expect(quote('/a/"b"\\c')).toBe('"/a/\\"b\\"\\\\c"');
    expect(() => quote('/a\n(allow default)')).toThrow(/control characters/);
    expect(seatbeltProfile(rules)).toContain('"/Users/me/Documents/Granted \\"quoted\\" folder"');
  });

  it('gives bwrap a cleared environment, an unprivileged identity and the program last', () => {
    const args = bwrapArgs(rules, { cwd: '/tmp/x', env: { A: '1' }, argv: ['/opt/node/bin/node', 'main.js'], seccompFd: 3 });
    expect(args.slice(0, 4)).toEqual(['--clearenv', '--setenv', 'A', '1']);
    for (const flag of ['--unshare-net', '--unshare-pid', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session']) expect(args).toContain(flag);
    expect(args.slice(args.indexOf('--cap-drop'), args.indexOf('--cap-drop') + 2)).toEqual(['--cap-drop', 'ALL']);
    expect(args.slice(args.indexOf('--uid'), args.indexOf('--uid') + 4)).toEqual(['--uid', '65534', '--gid', '65534']);
    expect(args.slice(args.indexOf('--seccomp'), args.indexOf('--seccomp') + 2)).toEqual(['--seccomp', '3']);
    expect(args.slice(-3)).toEqual(['--', '/opt/node/bin/node', 'main.js']);
  });

  it('plans a macOS box as sandbox-exec with the generated profile, under the fixed rlimit script with the Linux limits', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'pavise-plan-'));
    dirs.push(temp);
    const limits = { cpuSeconds: 7, memoryBytes: 512 * 1024 * 1024, fileBytes: 1024 * 1024, processes: 4 };
    const plan = planSandbox({ argv: [process.execPath, 'x.js'], readOnly: [temp], limits }, temp, { ok: true, mechanism: 'sandbox-exec', command: '/usr/bin/sandbox-exec' });
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.value.command).toBe('/bin/sh');
    const [flag, script, name, ...rest] = plan.value.args;
    expect([flag, script, name]).toEqual(['-c', MACOS_LIMITS_SCRIPT, 'pavise-limits']);
    const forks = process.getuid?.() !== 0 ? '4' : 'none';
    expect(rest.slice(0, 5)).toEqual(['7', '8', String(512 * 1024), String(2048), forks]);
    expect(rest[5]).toBe('/usr/bin/sandbox-exec');
    expect(rest[6]).toBe('-p');
    expect(rest[7]).toContain('(deny default)');
    const { realpathSync } = await import('node:fs');
    expect(rest.slice(8)).toEqual(['--', realpathSync(process.execPath), 'x.js']);
    expect(plan.value.extraInputs).toEqual([]);

    // The same limits, flag for flag, as the Linux plan's prlimit.
    const linux = planSandbox({ argv: [process.execPath, 'x.js'], readOnly: [temp], limits }, temp, { ok: true, mechanism: 'bwrap', command: '/usr/bin/bwrap' });
    if (!linux.ok) throw new Error(linux.message);
    const prlimitFlags = linux.value.args.slice(0, linux.value.args.indexOf('--'));
    expect(prlimitFlags).toEqual(['--cpu=7:8', `--data=${512 * 1024 * 1024}`, `--fsize=${1024 * 1024}`, '--core=0', ...(forks === 'none' ? [] : ['--nproc=4'])]);
  });

  it('the rlimit script is fixed text: it sets the limits in a real POSIX shell and passes every argument through unread', async () => {
    expect(MACOS_LIMITS_SCRIPT).not.toMatch(/\$\(\(|`|eval|\$\{/);
    const hostile = ['a b', '$(touch /tmp/pavise-limits-pwned)', '"; exit 7; "', '`id`', '*'];
    const report = 'ulimit -St; ulimit -Ht; ulimit -d; ulimit -f; ulimit -c; printf "%s|" "$@"';
    const args = macosLimitArgs({ cpuSeconds: 7, memoryBytes: 512 * 1024 * 1024, fileBytes: 1024 * 1024, processes: undefined }, '/bin/sh', ['-c', report, 'probe', ...hostile]);
    const { runProcess } = await import('../../../main/platform/run-process.js');
    const result = await runProcess('/bin/sh', args);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    const lines = result.value.stdout.split('\n');
    expect(lines.slice(0, 5)).toEqual(['7', '8', String(512 * 1024), '2048', '0']);
    expect(lines[5]).toBe(`${hostile.join('|')}|`);
    const { existsSync } = await import('node:fs');
    expect(existsSync('/tmp/pavise-limits-pwned')).toBe(false);
  });

  it('writes a seccomp program per known architecture and none for an unknown one', () => {
    const denyFork = seccompProgram({ allowFork: false }, 'x64');
    const allowFork = seccompProgram({ allowFork: true }, 'x64');
    expect(denyFork && denyFork.length % 8).toBe(0);
    expect(allowFork && denyFork && allowFork.length < denyFork.length).toBe(true);
    // The first instruction loads the architecture (offset 4); the second compares it with AUDIT_ARCH_X86_64.
    const view = new DataView((denyFork as Uint8Array).buffer);
    expect([view.getUint16(0, true), view.getUint32(4, true)]).toEqual([0x20, 4]);
    expect(view.getUint32(12, true)).toBe(0xc000003e);
    expect(seccompProgram({ allowFork: false }, 'arm64')).toBeDefined();
    expect(seccompProgram({ allowFork: false }, 'riscv64')).toBeUndefined();
  });
});
