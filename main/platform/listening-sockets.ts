import { execFile } from 'node:child_process';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import { promisify } from 'node:util';

/**
 * Finds sockets that accept traffic from others in a process tree: the check behind invariant 1 ("no listening
 * socket") in the tests and in `pavise audit`.
 *
 * Counted as listening: TCP sockets in LISTEN, UDP sockets bound to a port and not connected to one peer (they
 * receive datagrams from anyone), and Unix stream/seqpacket sockets that accept connections. Not counted: outbound
 * TCP connections, connected UDP sockets (a DNS query's, for example), socketpairs and other unbound sockets.
 *
 * The process tree is rootPid and every descendant alive at the time of the scan. A process whose parent died has
 * been re-parented (to init or a subreaper) and is no longer found through rootPid.
 */
export type SocketProtocol = 'tcp' | 'tcp6' | 'udp' | 'udp6' | 'unix';

export interface ListeningSocket {
  readonly pid: number;
  readonly protocol: SocketProtocol;
  /** `127.0.0.1:8080`, `[::1]:53`, a Unix socket's path, `@name` for an abstract one, or `` when unnamed. */
  readonly localAddress: string;
  /** The socket's inode on Linux; 0 on macOS, where lsof does not report one. */
  readonly inode: number;
}

export async function findListeningSockets(rootPid: number): Promise<ListeningSocket[]> {
  if (!Number.isInteger(rootPid) || rootPid <= 0) throw new RangeError(`Not a process id: ${rootPid}`);
  if (process.platform === 'linux') return findOnLinux(rootPid);
  if (process.platform === 'darwin') return findOnMac(rootPid);
  throw new Error(`Listing listening sockets is not supported on ${process.platform}.`);
}

// ---- Linux: /proc ---------------------------------------------------------------------------------------------------

const TCP_LISTEN = '0A';
const TCP_ESTABLISHED = '01';
const UNIX_ACCEPTCON = 0x00010000;

async function findOnLinux(rootPid: number): Promise<ListeningSocket[]> {
  const pids = await processTreeLinux(rootPid);
  const socketsByPid = new Map<number, Set<number>>();
  const namespaceReader = new Map<string, number>(); // network namespace -> a pid to read its /proc/PID/net from
  for (const pid of pids) {
    const inodes = await socketInodes(pid);
    if (inodes.size === 0) continue;
    socketsByPid.set(pid, inodes);
    const namespace = (await readlink(`/proc/${pid}/ns/net`).catch(() => undefined)) ?? 'unknown';
    if (!namespaceReader.has(namespace)) namespaceReader.set(namespace, pid);
  }

  // /proc/net shows only the reader's own network namespace; a child may have its own (bwrap --unshare-net).
  const listening = new Map<number, { protocol: SocketProtocol; localAddress: string }>();
  for (const pid of namespaceReader.values()) {
    for (const socket of await listeningInNamespace(`/proc/${pid}/net`)) listening.set(socket.inode, socket);
  }

  const found: ListeningSocket[] = [];
  for (const [pid, inodes] of socketsByPid) {
    for (const inode of inodes) {
      const socket = listening.get(inode);
      if (socket) found.push({ pid, protocol: socket.protocol, localAddress: socket.localAddress, inode });
    }
  }
  return found.sort((a, b) => a.pid - b.pid || a.inode - b.inode);
}

async function processTreeLinux(rootPid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) continue; // exited while we looked
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const siblings = children.get(ppid) ?? [];
    siblings.push(Number(entry));
    children.set(ppid, siblings);
  }
  const tree: number[] = [];
  const queue = [rootPid];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

async function socketInodes(pid: number): Promise<Set<number>> {
  const inodes = new Set<number>();
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
    const match = target === undefined ? null : /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(Number(match[1]));
  }
  return inodes;
}

interface TableSocket {
  readonly inode: number;
  readonly protocol: SocketProtocol;
  readonly localAddress: string;
}

async function listeningInNamespace(netDir: string): Promise<TableSocket[]> {
  const read = (name: string) => readFile(`${netDir}/${name}`, 'utf8').catch(() => '');
  const [tcp, tcp6, udp, udp6, unix] = await Promise.all(['tcp', 'tcp6', 'udp', 'udp6', 'unix'].map(read));
  return [
    ...parseInetTable(tcp ?? '', 'tcp'),
    ...parseInetTable(tcp6 ?? '', 'tcp6'),
    ...parseInetTable(udp ?? '', 'udp'),
    ...parseInetTable(udp6 ?? '', 'udp6'),
    ...parseUnixTable(unix ?? ''),
  ];
}

/** Rows of /proc/net/{tcp,tcp6,udp,udp6}: `sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode`. */
export function parseInetTable(table: string, protocol: 'tcp' | 'tcp6' | 'udp' | 'udp6'): TableSocket[] {
  const sockets: TableSocket[] = [];
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [, local = '', remote = '', state = ''] = fields;
    const inode = Number(fields[9]);
    if (!inode) continue;
    const [, localPort = '0'] = local.split(':');
    const [, remotePort = '0'] = remote.split(':');
    const isListening = protocol.startsWith('tcp')
      ? state === TCP_LISTEN
      : Number.parseInt(localPort, 16) !== 0 && state !== TCP_ESTABLISHED && Number.parseInt(remotePort, 16) === 0;
    if (isListening) sockets.push({ inode, protocol, localAddress: formatInetAddress(local) });
  }
  return sockets;
}

/** `0100007F:1F90` → `127.0.0.1:8080`; IPv6 addresses are four 32-bit words, each in the kernel's byte order. */
function formatInetAddress(hexAddress: string): string {
  const [hexIp = '', hexPort = '0'] = hexAddress.split(':');
  const port = Number.parseInt(hexPort, 16);
  const words = hexIp.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) => {
    const wordBytes = (word.match(/../g) ?? []).map((byte) => Number.parseInt(byte, 16));
    return endianness() === 'LE' ? wordBytes.reverse() : wordBytes;
  });
  if (bytes.length === 4) return `${bytes.join('.')}:${port}`;
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return `[${compressIpv6(groups)}]:${port}`;
}

function compressIpv6(groups: string[]): string {
  // Replace the longest run of two or more zero groups with "::" (RFC 5952).
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < groups.length; ) {
    if (groups[start] !== '0') {
      start += 1;
      continue;
    }
    let end = start;
    while (end < groups.length && groups[end] === '0') end += 1;
    if (end - start > bestLength && end - start >= 2) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

/** Rows of /proc/net/unix: `Num RefCount Protocol Flags Type St Inode [Path]`; the path may contain spaces. */
export function parseUnixTable(table: string): TableSocket[] {
  const sockets: TableSocket[] = [];
  for (const line of table.split('\n').slice(1)) {
    const match = /^\s*\S+:\s+\S+\s+\S+\s+([0-9A-Fa-f]+)\s+\S+\s+\S+\s+(\d+)(?: (.*))?$/.exec(line);
    if (!match) continue;
    const flags = Number.parseInt(match[1] ?? '0', 16);
    if ((flags & UNIX_ACCEPTCON) === 0) continue;
    sockets.push({ inode: Number(match[2]), protocol: 'unix', localAddress: match[3] ?? '' });
  }
  return sockets;
}

// ---- macOS: lsof (best effort) --------------------------------------------------------------------------------------

const run = promisify(execFile);

async function findOnMac(rootPid: number): Promise<ListeningSocket[]> {
  const pids = await processTreeMac(rootPid);
  const pidList = pids.join(',');
  // Three queries, because lsof ANDs every selection once -a is given. -n/-P keep addresses numeric.
  const [tcp, udp, unix] = await Promise.all([
    lsof(['-a', '-p', pidList, '-iTCP', '-sTCP:LISTEN', '-n', '-P', '-F', 'pftPn']),
    lsof(['-a', '-p', pidList, '-iUDP', '-n', '-P', '-F', 'pftPn']),
    lsof(['-a', '-p', pidList, '-U', '-F', 'pftPn']),
  ]);
  const found: ListeningSocket[] = [];
  for (const file of [...parseLsof(tcp), ...parseLsof(udp), ...parseLsof(unix)]) {
    if (file.type === 'unix') {
      // lsof cannot tell a listening Unix socket on macOS; a connected one shows "->peer", a bound one its path.
      if (!file.name.startsWith('/') || file.name.includes('->')) continue;
      found.push({ pid: file.pid, protocol: 'unix', localAddress: file.name, inode: 0 });
      continue;
    }
    const v6 = file.type === 'IPv6';
    if (file.protocol === 'UDP') {
      if (file.name.includes('->') || file.name.endsWith(':*') || file.name.endsWith(':0')) continue; // connected or unbound
      found.push({ pid: file.pid, protocol: v6 ? 'udp6' : 'udp', localAddress: file.name, inode: 0 });
    } else {
      found.push({ pid: file.pid, protocol: v6 ? 'tcp6' : 'tcp', localAddress: file.name, inode: 0 });
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}

async function processTreeMac(rootPid: number): Promise<number[]> {
  const { stdout } = await run('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of stdout.split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (!pid || ppid === undefined || Number.isNaN(ppid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const tree: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (tree.includes(pid)) continue;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

async function lsof(args: string[]): Promise<string> {
  try {
    return (await run('lsof', args, { encoding: 'utf8' })).stdout;
  } catch (error) {
    // lsof exits 1 when nothing matched; its output is still what we want.
    const stdout = (error as { stdout?: unknown }).stdout;
    if (typeof stdout === 'string' && (error as { code?: unknown }).code === 1) return stdout;
    throw error;
  }
}

interface LsofFile {
  pid: number;
  type: string;
  protocol: string;
  name: string;
}

/** lsof -F output: one field per line, `p` starts a process, `f` a file; then t(ype), P(rotocol) and n(ame). */
function parseLsof(output: string): LsofFile[] {
  const files: LsofFile[] = [];
  let pid = 0;
  let current: LsofFile | undefined;
  for (const line of output.split('\n')) {
    const tag = line[0];
    const value = line.slice(1);
    if (tag === 'p') pid = Number(value);
    else if (tag === 'f') {
      current = { pid, type: '', protocol: '', name: '' };
      files.push(current);
    } else if (current && tag === 't') current.type = value;
    else if (current && tag === 'P') current.protocol = value;
    else if (current && tag === 'n') current.name = value;
  }
  return files;
}
