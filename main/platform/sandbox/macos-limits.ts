/**
 * macOS has no prlimit: the box is started by `/bin/sh` running ONE FIXED script that sets the rlimits with the
 * shell's `ulimit` builtin and then `exec`s sandbox-exec, which the limits are inherited by. Every value (the limits,
 * sandbox-exec, its profile, the program's argv) reaches the script as a positional argument, read only as `"$N"`
 * and `"$@"` — never spliced into the script text and never evaluated (no arithmetic on them: the hard CPU limit is
 * computed here). Chosen over a compiled launcher: nothing to build, sign or ship, and the whole wrapper is this
 * constant, checked as text by the tests. The limits mirror the Linux prlimit flags one for one.
 */
export const MACOS_LIMITS_SCRIPT =
  'ulimit -S -t "$1" && ulimit -H -t "$2" && ulimit -d "$3" && ulimit -f "$4" && ulimit -c 0 && { [ "$5" = none ] || ulimit -u "$5"; } && shift 5 && exec "$@"';

export const MACOS_SHELL = '/bin/sh';

/** `$0` of the script: what `ps` shows for the wrapper while it runs. */
const SCRIPT_NAME = 'pavise-limits';

export interface RlimitValues {
  readonly cpuSeconds: number;
  readonly memoryBytes: number;
  readonly fileBytes: number;
  /** Processes the box may run, or undefined for no RLIMIT_NPROC (it counts every process of the user). */
  readonly processes: number | undefined;
}

/** The argv for `/bin/sh`: `-c SCRIPT pavise-limits <limits…> COMMAND ARGS…`. `ulimit -d` takes KiB, `-f` 512-byte blocks. */
export function macosLimitArgs(limits: RlimitValues, command: string, args: readonly string[]): string[] {
  const whole = (value: number, unit: number) => String(Math.max(1, Math.ceil(value / unit)));
  return [
    '-c',
    MACOS_LIMITS_SCRIPT,
    SCRIPT_NAME,
    String(limits.cpuSeconds),
    String(limits.cpuSeconds + 1),
    whole(limits.memoryBytes, 1024),
    whole(limits.fileBytes, 512),
    limits.processes === undefined ? 'none' : String(limits.processes),
    command,
    ...args,
  ];
}
