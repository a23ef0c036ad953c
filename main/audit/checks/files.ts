import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Audit, Finding } from './context.js';
import { shellQuote } from './text.js';

/** The home folder, database and config.json are private to their owner. */

export async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const octal = (mode: number): string => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

export async function checkHomePermissions(audit: Audit): Promise<Finding> {
  const home = audit.paths.home;
  const info = await statOrUndefined(home);
  if (!info) {
    return { severity: 'info', message: `PAVISE_HOME ${home} does not exist yet; Pavise creates it private (0700) on first run.`, fix: '' };
  }
  if (!info.isDirectory()) {
    return {
      severity: 'critical',
      message: `PAVISE_HOME ${home} is not a folder.`,
      fix: `Move it aside (mv ${shellQuote(home)} ${shellQuote(`${home}.bak`)}) or point PAVISE_HOME at a folder.`,
    };
  }
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    return {
      severity: 'critical',
      message: `PAVISE_HOME ${home} belongs to user id ${info.uid}, not to you (${uid}); its owner can read and change everything in it.`,
      fix: `Use a home you own: set PAVISE_HOME to a folder of yours, or chown -R "$(id -u)" ${shellQuote(home)}.`,
    };
  }
  if ((info.mode & 0o077) !== 0) {
    return {
      severity: 'critical',
      message: `PAVISE_HOME ${home} is mode ${octal(info.mode)}: other users on this machine can open it (your conversations, notes and settings live there).`,
      fix: `chmod 700 ${shellQuote(home)}`,
    };
  }
  return { severity: 'ok', message: `PAVISE_HOME ${home} is private (${octal(info.mode)}).`, fix: '' };
}

export async function checkDatabasePermissions(audit: Audit): Promise<Finding> {
  const database = audit.paths.database;
  const files = [database, `${database}-wal`, `${database}-shm`];
  const modes: { path: string; mode: number }[] = [];
  for (const path of files) {
    const info = await statOrUndefined(path);
    if (info) modes.push({ path, mode: info.mode });
  }
  if (!modes.some((file) => file.path === database)) {
    return { severity: 'info', message: `No database yet (${database}); Pavise creates it with mode 0600.`, fix: '' };
  }
  const open = modes.filter((file) => (file.mode & 0o077) !== 0);
  if (open.length > 0) {
    return {
      severity: 'critical',
      message: `The database is open to other users: ${open.map((file) => `${basename(file.path)} is ${octal(file.mode)}`).join(', ')} (it holds your conversations and notes).`,
      // The glob also covers a -wal/-shm that SQLite creates later with the database's mode.
      fix: `chmod 600 ${shellQuote(database)}*`,
    };
  }
  return { severity: 'ok', message: `The database files are private (${modes.map((file) => `${basename(file.path)} ${octal(file.mode)}`).join(', ')}).`, fix: '' };
}

export async function checkConfigPermissions(audit: Audit): Promise<Finding> {
  const path = audit.paths.config;
  const info = await statOrUndefined(path);
  if (!info) return { severity: 'ok', message: 'No config.json (defaults in use), so nothing to protect.', fix: '' };
  const fix = `chmod 600 ${shellQuote(path)}`;
  if ((info.mode & 0o022) !== 0) {
    // Writable config can point model.baseURL at someone else's server, which would then receive the API key.
    // A private home keeps other users from reaching the file at all, which makes it a warning rather than critical.
    const home = await statOrUndefined(audit.paths.home);
    const homeOpen = home === undefined || (home.mode & 0o011) !== 0;
    return {
      severity: homeOpen ? 'critical' : 'warn',
      message: `config.json is mode ${octal(info.mode)}: other users could change it (for example point model.baseURL at their own server to receive your API key)${homeOpen ? '' : '; the private home folder keeps them out for now'}.`,
      fix,
    };
  }
  if ((info.mode & 0o044) !== 0) {
    return { severity: 'warn', message: `config.json is mode ${octal(info.mode)}: other users could read your settings if they can reach the folder.`, fix };
  }
  return { severity: 'ok', message: `config.json is private (${octal(info.mode)}).`, fix: '' };
}
