import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bwrapArgs, bwrapRuleArgs } from '../../../main/platform/sandbox/bwrap-args.js';
import { type SandboxRule, sandboxRules } from '../../../main/platform/sandbox/rules.js';
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

  it('plans a macOS box as sandbox-exec with the generated profile and no rlimit wrapper', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'pavise-plan-'));
    dirs.push(temp);
    const plan = planSandbox({ argv: [process.execPath, 'x.js'], readOnly: [temp] }, temp, { ok: true, mechanism: 'sandbox-exec', command: '/usr/bin/sandbox-exec' });
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.value.command).toBe('/usr/bin/sandbox-exec');
    expect(plan.value.args[0]).toBe('-p');
    expect(plan.value.args[1]).toContain('(deny default)');
    const { realpathSync } = await import('node:fs');
    expect(plan.value.args.slice(2)).toEqual(['--', realpathSync(process.execPath), 'x.js']);
    expect(plan.value.extraInputs).toEqual([]);
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
