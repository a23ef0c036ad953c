import { readdir, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { findListeningSockets, type ListeningSocket } from '../../platform/listening-sockets.js';
import type { Audit, Finding } from './context.js';
import { runProcess } from '../../platform/run-process.js';

/** Invariant 1: no process of a running Pavise listens. */

export async function checkListeningSockets(audit: Audit): Promise<Finding> {
  const processes = await findPaviseProcesses(audit.platform);
  if (processes === undefined) {
    return { severity: 'info', message: `Cannot list running processes on ${audit.platform}; no running Pavise was inspected.`, fix: '' };
  }
  const roots = processes.map((found) => found.pid);
  if (audit.deep) roots.push(process.pid);
  const listeners = new Map<string, ListeningSocket>();
  const uninspectable: number[] = [];
  for (const pid of roots) {
    try {
      for (const socket of await findListeningSockets(pid)) listeners.set(`${socket.pid}/${socket.inode}/${socket.protocol}/${socket.localAddress}`, socket);
    } catch {
      uninspectable.push(pid);
    }
  }
  if (listeners.size > 0) {
    const list = [...listeners.values()].map((socket) => `pid ${socket.pid} listens on ${socket.protocol} ${socket.localAddress || '(unnamed)'}`);
    return {
      severity: 'critical',
      message: `A Pavise process tree has a listening socket: ${list.join('; ')}. Pavise never listens; anything that does can be reached by others.`,
      fix: `Stop the process (kill ${[...new Set([...listeners.values()].map((socket) => socket.pid))].join(' ')}), remove whatever started the listener (a skill, a plugin, a modified build), and report it.`,
    };
  }
  const unchecked = uninspectable.length > 0 ? ` (could not inspect pid ${uninspectable.join(', ')})` : '';
  if (processes.length === 0) {
    if (audit.deep) {
      return {
        severity: 'ok',
        message: `No running Pavise to inspect; the audit's own process tree (pid ${process.pid}) has no listening socket${unchecked}.`,
        fix: '',
      };
    }
    return { severity: 'info', message: 'No running Pavise to inspect (start it and run the audit again to check for listening sockets).', fix: '' };
  }
  const pids = processes.map((found) => found.pid).join(', ');
  return {
    severity: uninspectable.length === roots.length ? 'info' : 'ok',
    message: `No listening socket in ${processes.length} running Pavise process tree${processes.length === 1 ? '' : 's'} (pid ${pids})${audit.deep ? ' or the audit itself' : ''}${unchecked}.`,
    fix: '',
  };
}

interface PaviseProcess {
  readonly pid: number;
}

const PAVISE_SCRIPT = /(?:^|\/)(?:bin\/pavise(?:\.js)?|dist\/cli\/main\.js|dist\/electron\/main\.js)$/;

/** Running Pavise processes other than this one; undefined when the platform offers no way to look. */
async function findPaviseProcesses(platform: NodeJS.Platform): Promise<PaviseProcess[] | undefined> {
  if (platform === 'linux') {
    const found: PaviseProcess[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      const argv = cmdline.split('\0').filter((arg) => arg.length > 0);
      if (isPaviseArgv(argv)) found.push({ pid: Number(entry) });
    }
    return found;
  }
  if (platform === 'darwin') {
    const listed = await runProcess('ps', ['-A', '-o', 'pid=,command='], { maxStdoutBytes: 16 * 1024 * 1024 });
    if (!listed.ok) throw new Error(listed.message);
    const stdout = listed.value.stdout;
    const found: PaviseProcess[] = [];
    for (const line of stdout.split('\n')) {
      const match = /^\s*(\d+)\s+(.*)$/.exec(line);
      if (!match || Number(match[1]) === process.pid) continue;
      const command = match[2] ?? '';
      // ps joins argv with spaces, so paths are matched inside the line rather than argument by argument.
      if (/Pavise\.app\/Contents\//.test(command) || /(?:^|[\s/])(?:bin\/pavise(?:\.js)?|dist\/(?:cli|electron)\/main\.js)(?:\s|$)/.test(command)) {
        found.push({ pid: Number(match[1]) });
      }
    }
    return found;
  }
  return undefined;
}

/** A packaged app (`Pavise`, `…/Pavise.app/…`) or Node/Electron running the CLI or the app's bundle. */
export function isPaviseArgv(argv: readonly string[]): boolean {
  const [program, ...rest] = argv;
  if (program === undefined) return false;
  if (program.includes('Pavise.app/Contents/')) return true;
  const name = basename(program);
  if (name === 'Pavise' || name === 'pavise') return true;
  if (!/^(?:node|nodejs|electron)(?:\d+|\.exe)?$/i.test(name)) return false;
  const script = rest.find((arg) => !arg.startsWith('-'));
  return script !== undefined && PAVISE_SCRIPT.test(script);
}
