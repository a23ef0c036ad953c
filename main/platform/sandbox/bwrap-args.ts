import type { SandboxRule } from './rules.js';

/**
 * Linux: each rule as bwrap arguments (one group per rule, in order). The listen and fork rules are enforced by the
 * seccomp program handed over on `--seccomp`; their groups name it so the mapping stays one for one.
 */
export function bwrapRuleArgs(rule: SandboxRule, seccompFd: number): string[] {
  switch (rule.kind) {
    case 'system':
      return ['--ro-bind-try', rule.path, rule.path];
    case 'devices':
      return ['--dev', '/dev', '--proc', '/proc'];
    case 'exec':
      return ['--ro-bind', rule.path, rule.path];
    case 'read':
      return ['--ro-bind', rule.path, rule.path];
    case 'write':
      return ['--bind', rule.path, rule.path];
    case 'temp':
      return ['--bind', rule.path, rule.path, '--setenv', 'TMPDIR', rule.path];
    case 'no-network':
      return ['--unshare-net'];
    case 'network':
      // The host's own network namespace (its loopback too): what a name resolves with comes from the system paths.
      return ['--share-net'];
    case 'no-listen':
      return ['--seccomp', String(seccompFd)];
    case 'isolated-processes':
      return ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--die-with-parent', '--new-session'];
    case 'processes':
      // Forks are refused (or not) by the seccomp program built from this same rule; here the box gets its own user
      // namespace with no capabilities and no way to make another.
      return ['--unshare-user', '--disable-userns', '--cap-drop', 'ALL'];
  }
}

export interface BwrapCommand {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly argv: readonly string[];
  readonly seccompFd: number;
}

/** The whole bwrap argv after `bwrap`, ending with `--` and the program's argv. */
export function bwrapArgs(rules: readonly SandboxRule[], options: BwrapCommand): string[] {
  const args: string[] = ['--clearenv'];
  for (const [name, value] of Object.entries(options.env)) args.push('--setenv', name, value);
  for (const rule of rules) args.push(...bwrapRuleArgs(rule, options.seccompFd));
  // Everything not bound writable above (the box's own root, the folders bwrap made for the binds) becomes read-only,
  // so a write outside the grants fails instead of landing in a throwaway tmpfs. Root outside must not be root inside.
  args.push('--remount-ro', '/', '--uid', String(BOX_ID), '--gid', String(BOX_ID), '--chdir', options.cwd, '--', ...options.argv);
  return args;
}

const BOX_ID = 65534;
