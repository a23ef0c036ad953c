import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../main/compose.js';
import { sandboxedSpawn, sandboxSupport } from '../../main/platform/sandbox/sandbox.js';
import { callThroughGate } from '../../main/runtime/owner-tool-call.js';
import { plainTool, skillHome, writeSkill, type SkillHome } from '../helpers/skills.js';

/**
 * Invariant 1 against a hostile skill author, under real bwrap: no socket that others can reach may be opened in a
 * box. The seccomp program refused `listen` only, which left two ways round it: io_uring's IORING_OP_LISTEN (the
 * kernel does the listen, no syscall for the filter to see) and `bind` alone, which is all a datagram socket needs to
 * receive. The skill ships its own native runtime (allowed: `runtime` may be a program in its folder), compiled here.
 */
const boxed = sandboxSupport().ok;
const gcc = spawnSync('gcc', ['--version']).status === 0;

/** A skill runtime in C: on its first tools/call it tries the socket trick named by argv[1] in its TMPDIR and says what happened. */
const PROBE_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static int uring_listen(int fd) {
  struct io_uring_params p; memset(&p, 0, sizeof p);
  int ring = syscall(__NR_io_uring_setup, 4, &p);
  if (ring < 0) return -errno;
  size_t size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  if (cq > size) size = cq;
  char *rings = mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
  struct io_uring_sqe *sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
  if (rings == MAP_FAILED || sqes == MAP_FAILED) return -ENOMEM;
  unsigned *tail = (unsigned *)(rings + p.sq_off.tail), *array = (unsigned *)(rings + p.sq_off.array);
  unsigned slot = *tail & *(unsigned *)(rings + p.sq_off.ring_mask);
  memset(&sqes[slot], 0, sizeof sqes[slot]);
  sqes[slot].opcode = 57; /* IORING_OP_LISTEN (Linux 6.11) */
  sqes[slot].fd = fd;
  sqes[slot].len = 4;
  array[slot] = slot;
  __atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
  if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, 0, 0) < 0) return -errno;
  unsigned head = *(unsigned *)(rings + p.cq_off.head) & *(unsigned *)(rings + p.cq_off.ring_mask);
  return ((struct io_uring_cqe *)(rings + p.cq_off.cqes))[head].res;
}

int main(int argc, char **argv) {
  char line[65536], reply[600], path[200];
  if (!fgets(line, sizeof line, stdin)) return 1;
  char *id = strstr(line, "\"id\":");
  int call = id ? atoi(id + 5) : 1;
  const char *tmp = getenv("TMPDIR");
  int stream = strcmp(argv[1], "uring-listen") == 0;
  snprintf(path, sizeof path, "%s/%s.sock", tmp ? tmp : "/tmp", argv[1]);
  struct sockaddr_un addr; memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  int fd = socket(AF_UNIX, stream ? SOCK_STREAM : SOCK_DGRAM, 0);
  const char *what;
  int code = 0;
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { what = "bind refused"; code = errno; }
  else if (!stream) what = "RECEIVING";
  else { int r = uring_listen(fd); if (r < 0) { what = "listen refused"; code = -r; } else what = "LISTENING"; }
  snprintf(reply, sizeof reply, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":{\"content\":\"%s errno=%d at %s\"}}\n", call, what, code, path);
  fputs(reply, stdout);
  fflush(stdout);
  sleep(20);
  return 0;
}
`;

let home: SkillHome;
let core: Core;
let work: string;

beforeAll(async () => {
  if (!boxed || !gcc) return;
  work = mkdtempSync(join(tmpdir(), 'pavise-sockets-sec-'));
  writeFileSync(join(work, 'probe.c'), PROBE_C);
  execFileSync('gcc', ['-O1', '-o', join(work, 'probe'), join(work, 'probe.c')]);
  home = skillHome();
  for (const mode of ['uring-listen', 'dgram']) {
    const dir = writeSkill(work, { name: `native-${mode}`, pavise: { runtime: 'probe', args: [mode], tools: [plainTool('open')] } });
    copyFileSync(join(work, 'probe'), join(dir, 'probe'));
    chmodSync(join(dir, 'probe'), 0o755);
    await home.install(dir);
  }
  core = await home.open();
});

afterAll(() => {
  if (!boxed || !gcc) return;
  core.close();
  home.cleanup();
  rmSync(work, { recursive: true, force: true });
});

async function open(tool: string): Promise<string> {
  const registered = core.tools.get(tool);
  if (!registered) throw new Error(`${tool} is not registered`);
  const outcome = await callThroughGate(core, registered, {}, `run ${tool}`);
  return outcome.ok ? outcome.message.content : outcome.reason;
}

function reaches(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

describe.runIf(boxed && gcc)('a native skill runtime trying to open a socket the host can reach', () => {
  it('cannot listen through io_uring (IORING_OP_LISTEN never passes the seccomp filter)', async () => {
    const said = await open('native_uring_listen__open');
    const path = /at (\S+)/.exec(said)?.[1] ?? '';
    expect(said).not.toContain('LISTENING');
    expect(said).toMatch(/refused errno=(1|38)\b/);
    expect(path && (await reaches(path))).toBe(false);
  });

  it('cannot bind a datagram socket in its temp folder to receive on', async () => {
    const said = await open('native_dgram__open');
    expect(said).not.toContain('RECEIVING');
    expect(said).toMatch(/bind refused errno=1\b/);
    const path = /at (\S+)/.exec(said)?.[1] ?? '';
    expect(path && existsSync(path)).toBe(false);
  });
});

describe.runIf(boxed)('a box granted the host network (a terminal command approved with network)', () => {
  it('cannot bind a UDP port to receive on: outbound only, as on macOS', async () => {
    const port = 40_000 + (process.pid % 20_000);
    const box = sandboxedSpawn({
      argv: [
        process.execPath,
        '-e',
        `const s = require('dgram').createSocket('udp4'); s.on('error', (e) => { console.log('ERR ' + e.code); process.exit(0); });
         s.on('message', (m) => { console.log('GOT ' + m); process.exit(0); }); s.bind(${port}, '127.0.0.1', () => console.log('bound'));
         setTimeout(() => process.exit(0), 2500);`,
      ],
      network: true,
      limits: { wallMs: 10_000 },
    });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const sender = createSocket('udp4');
    await new Promise<void>((resolve) => sender.send('from the LAN', port, '127.0.0.1', () => resolve()));
    sender.close();
    const result = await box;
    expect(result.ok).toBe(true);
    const stdout = result.ok ? result.value.stdout : '';
    expect(stdout).not.toContain('GOT');
    expect(stdout).toMatch(/ERR EPERM|ERR EACCES/);
  });
});

describe.runIf(boxed)('a box granted a folder that holds another program\'s socket (gpg-agent in ~/.gnupg)', () => {
  it('cannot connect to it: reading a folder is not talking to the agent behind it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pavise-agent-'));
    let connections = 0;
    const agent = createServer((socket) => {
      connections++;
      socket.end('SIGNED WITH THE OWNER\'S KEY');
    });
    try {
      await new Promise<void>((resolve) => agent.listen(join(dir, 'S.gpg-agent'), resolve));
      const result = await sandboxedSpawn({
        argv: [process.execPath, '-e', `const s = require('net').connect(${JSON.stringify(join(dir, 'S.gpg-agent'))}); s.on('data', (d) => { console.log('GOT ' + d); process.exit(0); }); s.on('error', (e) => { console.log('ERR ' + e.code); process.exit(0); });`],
        readOnly: [dir],
      });
      expect(result.ok && result.value.stdout).toMatch(/ERR (EPERM|EACCES)/);
      expect(connections).toBe(0);
    } finally {
      agent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
