import type { SandboxRule } from './rules.js';

/**
 * macOS: each rule as sandbox-exec (Seatbelt) profile lines, one group per rule, in the same order as the bwrap
 * arguments. The profile denies everything by default; paths are passed as quoted string literals, never spliced
 * unescaped (`quote`).
 */
export function seatbeltRuleLines(rule: SandboxRule): string[] {
  switch (rule.kind) {
    case 'system':
      return [`(allow file-read* (subpath ${quote(rule.path)}))`];
    case 'devices':
      return ['(allow file-read* file-write-data (literal "/dev/null") (literal "/dev/zero"))', '(allow file-read* (literal "/dev/random") (literal "/dev/urandom"))'];
    case 'exec':
      return [`(allow file-read* process-exec (literal ${quote(rule.path)}))`];
    case 'read':
      return [`(allow file-read* (subpath ${quote(rule.path)}))`];
    case 'write':
      return [`(allow file-read* file-write* (subpath ${quote(rule.path)}))`];
    case 'temp':
      return [`(allow file-read* file-write* (subpath ${quote(rule.path)}))`];
    case 'no-network':
      return ['(deny network*)'];
    case 'network':
      // Outbound IP only (listening stays denied by the next rule), plus the system resolver, reached over its mach
      // service and its one unix socket. No other unix socket: a local daemon's (Docker's, an SSH agent's, a
      // database's) is not "the network" the owner granted. The Linux box refuses AF_UNIX sockets in seccomp.
      return [
        '(allow network-outbound (remote ip "*:*"))',
        '(allow network-outbound (literal "/private/var/run/mDNSResponder"))',
        '(allow system-socket)',
        '(allow mach-lookup (global-name "com.apple.dnssd.service"))',
      ];
    case 'no-listen':
      return ['(deny network-bind network-inbound)'];
    case 'isolated-processes':
      return ['(allow process-info* (target self))', '(allow signal (target self))', '(deny mach-register)'];
    case 'processes':
      return rule.fork ? ['(allow process-fork)'] : ['(deny process-fork)'];
  }
}

/** The whole profile for `sandbox-exec -p`. */
export function seatbeltProfile(rules: readonly SandboxRule[]): string {
  const lines = [
    '(version 1)',
    '(deny default)',
    // What any process needs to start at all: its own metadata, the dyld cache and a few read-only lookups.
    '(allow file-read-metadata)',
    '(allow sysctl-read)',
    '(allow mach-lookup (global-name "com.apple.system.notification_center") (global-name "com.apple.system.opendirectoryd.libinfo"))',
  ];
  for (const rule of rules) lines.push(...seatbeltRuleLines(rule));
  return `${lines.join('\n')}\n`;
}

/** A Seatbelt string literal: backslash and double quote escaped, control characters refused. */
export function quote(path: string): string {
  if (/[\u0000-\u001f\u007f]/.test(path)) throw new RangeError(`A sandbox path cannot contain control characters: ${JSON.stringify(path)}`);
  return `"${path.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}
