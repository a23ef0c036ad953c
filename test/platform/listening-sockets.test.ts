import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { findListeningSockets, parseInetTable, parseUnixTable } from '../../main/platform/listening-sockets.js';

/*
 * Each case starts a small Node child that opens one kind of socket, prints one JSON line when it is ready, and
 * exits when its stdin closes (so a grandchild dies with its parent even if a kill is missed).
 */
const EXIT_WITH_STDIN = "process.stdin.on('end', () => process.exit(0)); process.stdin.resume();";
const READY = 'const ready = (info) => process.stdout.write(JSON.stringify({ pid: process.pid, ...info }) + "\\n");';

const SCRIPTS = {
  tcpListener: `${READY} const s = require('node:net').createServer().listen(0, '127.0.0.1', () => ready({ port: s.address().port })); ${EXIT_WITH_STDIN}`,
  udpListener: `${READY} const s = require('node:dgram').createSocket('udp4'); s.bind(0, '127.0.0.1', () => ready({ port: s.address().port })); ${EXIT_WITH_STDIN}`,
  unixListener: `${READY} const s = require('node:net').createServer().listen(process.argv[1], () => ready({ path: process.argv[1] })); ${EXIT_WITH_STDIN}`,
  tcpClient: `${READY} const c = require('node:net').connect(Number(process.argv[1]), '127.0.0.1', () => ready({})); ${EXIT_WITH_STDIN}`,
  udpConnected: `${READY} const s = require('node:dgram').createSocket('udp4'); s.connect(Number(process.argv[1]), '127.0.0.1', () => ready({})); ${EXIT_WITH_STDIN}`,
  // Starts a TCP listener as its own child and reports the grandchild's line.
  parentOfTcpListener: `
    const child = require('node:child_process').spawn(process.execPath, ['-e', process.argv[1]], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdout.pipe(process.stdout);
    process.stdin.on('end', () => { child.stdin.end(); process.exit(0); });
    process.stdin.resume();`,
} as const;

interface Started {
  readonly child: ChildProcess;
  readonly info: { pid: number; port?: number; path?: string };
}

const started: ChildProcess[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const child of started.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, 'exit');
    child.stdin?.end();
    child.kill('SIGTERM');
    await exited;
  }
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function start(command: string[], script: string, ...args: string[]): Promise<Started> {
  const [file, ...prefix] = [...command, process.execPath];
  const child = spawn(file as string, [...prefix, '-e', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(child);
  const lines = createInterface({ input: child.stdout as NonNullable<ChildProcess['stdout']> });
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`child exited with ${String(code)} before it was ready`);
    }),
  ])) as [string];
  return { child, info: JSON.parse(line) as Started['info'] };
}

function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pavise-sockets-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function localTcpServer(): Promise<number> {
  const server: Server = createServer((socket) => socket.on('error', () => undefined)).listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => server.close());
  return (server.address() as AddressInfo).port;
}

async function localUdpServer(): Promise<number> {
  const socket: UdpSocket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  cleanups.push(() => socket.close());
  return socket.address().port;
}

const bwrapWorks =
  process.platform === 'linux' &&
  spawnSync('bwrap', ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-net', '--', 'true'], {
    stdio: 'ignore',
  }).status === 0;

describe.runIf(process.platform === 'linux' || process.platform === 'darwin')('findListeningSockets', () => {
  it('finds a TCP listener', async () => {
    const { child, info } = await start([], SCRIPTS.tcpListener);
    const sockets = await findListeningSockets(child.pid as number);
    expect(sockets).toHaveLength(1);
    expect(sockets[0]).toMatchObject({ pid: child.pid, protocol: 'tcp', localAddress: `127.0.0.1:${info.port}` });
  });

  it('finds a bound UDP socket', async () => {
    const { child, info } = await start([], SCRIPTS.udpListener);
    const sockets = await findListeningSockets(child.pid as number);
    expect(sockets).toHaveLength(1);
    expect(sockets[0]).toMatchObject({ pid: child.pid, protocol: 'udp', localAddress: `127.0.0.1:${info.port}` });
  });

  it('finds a listening Unix socket', async () => {
    const path = join(scratchDir(), 'listener.sock');
    const { child } = await start([], SCRIPTS.unixListener, path);
    const sockets = await findListeningSockets(child.pid as number);
    expect(sockets).toEqual([expect.objectContaining({ pid: child.pid, protocol: 'unix', localAddress: path })]);
  });

  it('does not report an outbound TCP connection', async () => {
    const port = await localTcpServer();
    const { child } = await start([], SCRIPTS.tcpClient, String(port));
    expect(await findListeningSockets(child.pid as number)).toEqual([]);
  });

  it('does not report a UDP socket connected to one peer', async () => {
    const port = await localUdpServer();
    const { child } = await start([], SCRIPTS.udpConnected, String(port));
    expect(await findListeningSockets(child.pid as number)).toEqual([]);
  });

  it('covers grandchildren', async () => {
    const { child, info } = await start([], SCRIPTS.parentOfTcpListener, SCRIPTS.tcpListener);
    expect(info.pid).not.toBe(child.pid);
    const sockets = await findListeningSockets(child.pid as number);
    expect(sockets).toEqual([
      expect.objectContaining({ pid: info.pid, protocol: 'tcp', localAddress: `127.0.0.1:${info.port}` }),
    ]);
  });

  it('reports nothing for a process without sockets', async () => {
    const { child } = await start([], `${READY} ready({}); ${EXIT_WITH_STDIN}`);
    expect(await findListeningSockets(child.pid as number)).toEqual([]);
  });

  it.runIf(bwrapWorks)('finds a listener inside its own network namespace (bwrap --unshare-net)', async () => {
    const sandbox = ['bwrap', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-net', '--'];
    const { child, info } = await start(sandbox, SCRIPTS.tcpListener);
    const sockets = await findListeningSockets(child.pid as number);
    expect(sockets).toEqual([expect.objectContaining({ protocol: 'tcp', localAddress: `127.0.0.1:${info.port}` })]);
  });

  it('rejects a value that is not a process id', async () => {
    await expect(findListeningSockets(0)).rejects.toThrow(RangeError);
    await expect(findListeningSockets(1.5)).rejects.toThrow(RangeError);
  });
});

describe('parsing /proc/net tables', () => {
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

  it('keeps TCP sockets in LISTEN only and formats IPv4 and IPv6 addresses', () => {
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
    const tcp = [
      header,
      `   0: ${littleEndian ? '0100007F' : '7F000001'}:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0`,
      `   1: ${littleEndian ? '0100007F' : '7F000001'}:A1B2 ${littleEndian ? '0100007F' : '7F000001'}:1F90 01 00000000:00000000 00:00000000 00000000     0        0 112 1 0`,
    ].join('\n');
    expect(parseInetTable(tcp, 'tcp')).toEqual([{ inode: 111, protocol: 'tcp', localAddress: '127.0.0.1:8080' }]);

    const loopback6 = littleEndian ? '00000000000000000000000001000000' : '00000000000000000000000000000001';
    const tcp6 = `${header}\n   0: ${loopback6}:0035 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0`;
    expect(parseInetTable(tcp6, 'tcp6')).toEqual([{ inode: 222, protocol: 'tcp6', localAddress: '[::1]:53' }]);
  });

  it('keeps bound, unconnected UDP sockets only', () => {
    const header = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops';
    const udp = [
      header,
      '  1: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 301 2 0000000000000000 0',
      '  2: 0100007F:C000 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 302 2 0000000000000000 0',
    ].join('\n');
    expect(parseInetTable(udp, 'udp')).toEqual([{ inode: 301, protocol: 'udp', localAddress: '0.0.0.0:5353' }]);
  });

  it('keeps Unix sockets that accept connections, with paths that contain spaces', () => {
    const unix = [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '0000000000000000: 00000002 00000000 00010000 0001 01 401 /tmp/a dir/listener.sock',
      '0000000000000000: 00000002 00000000 00010000 0001 01 402 @abstract-name',
      '0000000000000000: 00000003 00000000 00000000 0001 03 403 /tmp/connected.sock',
      '0000000000000000: 00000003 00000000 00000000 0001 03 404',
    ].join('\n');
    expect(parseUnixTable(unix)).toEqual([
      { inode: 401, protocol: 'unix', localAddress: '/tmp/a dir/listener.sock' },
      { inode: 402, protocol: 'unix', localAddress: '@abstract-name' },
    ]);
  });
});
