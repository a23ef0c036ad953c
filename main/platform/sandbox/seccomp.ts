/**
 * A classic-BPF seccomp program for bwrap's `--seccomp FD`, written out by hand so no compiler or library is needed.
 * It refuses `listen` and `bind` (invariant 1 holds inside the box too: a bound datagram socket receives without ever
 * listening, which on a box with the host's network is a port anyone can send to, and in the box's temp folder a
 * unix socket the host's processes can reach), io_uring (whose IORING_OP_LISTEN and IORING_OP_BIND are done by the
 * kernel without a syscall this filter could see; io_uring_setup says ENOSYS so runtimes fall back to plain calls),
 * `socket(AF_UNIX, …)` (a granted folder may hold another program's socket), tracing and the kernel keyring always,
 * and, unless the box may start processes, every fork: `fork`/`vfork` and a `clone` without CLONE_THREAD fail with
 * EPERM (threads still work), `clone3` says ENOSYS so the C library falls back to `clone`. A foreign architecture or
 * the x32 ABI is killed. Unknown CPU architectures get no program (the caller refuses to run rather than run unfiltered).
 */

interface SyscallTable {
  readonly auditArch: number;
  readonly alwaysDenied: readonly number[];
  /** io_uring_setup, io_uring_enter, io_uring_register. */
  readonly ioUring: readonly number[];
  readonly socket: number;
  readonly forks: readonly number[];
  readonly clone: number;
  readonly clone3: number;
  readonly x32Bit?: number;
}

const TABLES: Readonly<Record<string, SyscallTable>> = {
  // listen, bind, ptrace, add_key, request_key, keyctl
  x64: { auditArch: 0xc000003e, alwaysDenied: [50, 49, 101, 248, 249, 250], ioUring: [425, 426, 427], socket: 41, forks: [57, 58], clone: 56, clone3: 435, x32Bit: 0x40000000 },
  arm64: { auditArch: 0xc00000b7, alwaysDenied: [201, 200, 117, 217, 218, 219], ioUring: [425, 426, 427], socket: 198, forks: [], clone: 220, clone3: 435 },
};

const LD_ABS_W = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;
const CLONE_THREAD = 0x00010000;
const AF_UNIX = 1;
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const OFFSET_ARG0_LOW = 16;

type Instruction = readonly [code: number, jt: number, jf: number, k: number];

export function seccompSupported(arch: string = process.arch): boolean {
  return arch in TABLES;
}

/** The program's bytes (struct sock_filter[], little-endian), or undefined for an architecture it does not know. */
export function seccompProgram(options: { readonly allowFork: boolean }, arch: string = process.arch): Uint8Array | undefined {
  const table = TABLES[arch];
  if (!table) return undefined;
  const program: Instruction[] = [
    [LD_ABS_W, 0, 0, OFFSET_ARCH],
    [JEQ_K, 1, 0, table.auditArch],
    [RET_K, 0, 0, RET_KILL_PROCESS],
    [LD_ABS_W, 0, 0, OFFSET_NR],
  ];
  if (table.x32Bit !== undefined) program.push([JGE_K, 0, 1, table.x32Bit], [RET_K, 0, 0, RET_KILL_PROCESS]);
  const refuse = (nr: number, errno: number) => program.push([JEQ_K, 0, 1, nr], [RET_K, 0, 0, RET_ERRNO | errno]);
  for (const nr of table.alwaysDenied) refuse(nr, EPERM);
  for (const nr of table.ioUring) refuse(nr, ENOSYS);
  // No unix socket of its own: a granted folder can hold another program's socket (gpg-agent's in ~/.gnupg, a
  // credential cache), and reading a folder must not mean talking to the agent behind it with the owner's keys.
  program.push(
    [JEQ_K, 0, 3, table.socket],
    [LD_ABS_W, 0, 0, OFFSET_ARG0_LOW],
    [JEQ_K, 0, 1, AF_UNIX],
    [RET_K, 0, 0, RET_ERRNO | EPERM],
    [LD_ABS_W, 0, 0, OFFSET_NR],
  );
  if (!options.allowFork) {
    for (const nr of table.forks) refuse(nr, EPERM);
    refuse(table.clone3, ENOSYS);
    program.push(
      [JEQ_K, 0, 4, table.clone],
      [LD_ABS_W, 0, 0, OFFSET_ARG0_LOW],
      [JSET_K, 0, 1, CLONE_THREAD],
      [RET_K, 0, 0, RET_ALLOW],
      [RET_K, 0, 0, RET_ERRNO | EPERM],
    );
  }
  program.push([RET_K, 0, 0, RET_ALLOW]);
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  program.forEach(([code, jt, jf, k], index) => {
    view.setUint16(index * 8, code, true);
    view.setUint8(index * 8 + 2, jt);
    view.setUint8(index * 8 + 3, jf);
    view.setUint32(index * 8 + 4, k >>> 0, true);
  });
  return bytes;
}
