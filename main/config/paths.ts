import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where a Pavise lives when PAVISE_HOME is not set. */
export function defaultPaviseHome(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Pavise');
  const dataHome = env.XDG_DATA_HOME && env.XDG_DATA_HOME.length > 0 ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(dataHome, 'pavise');
}

export function paviseHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const explicit = env.PAVISE_HOME;
  if (!explicit || explicit.length === 0) return defaultPaviseHome(env, platform);
  // A "~" the shell did not expand (quoted, or set in a service file) means the user's home, not a folder named "~".
  return explicit === '~' ? homedir() : explicit.startsWith('~/') ? join(homedir(), explicit.slice(2)) : explicit;
}

export interface HomePaths {
  readonly home: string;
  readonly config: string;
  readonly database: string;
  readonly soul: string;
  /** Installed skills' copies (each pinned by hash in the database). */
  readonly skills: string;
  /** The files the owner created through Pavise (main/tools/files/owner-files.ts). */
  readonly ownerFiles: string;
  /** browse's own Chromium profile (never the owner's) and the screenshots it takes. */
  readonly browserProfile: string;
  readonly browserScreenshots: string;
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    config: join(home, 'config.json'),
    database: join(home, 'pavise.db'),
    soul: join(home, 'SOUL.md'),
    skills: join(home, 'skills'),
    ownerFiles: join(home, 'owner-files.json'),
    browserProfile: join(home, 'browser-profile'),
    browserScreenshots: join(home, 'browser-screenshots'),
  };
}

/** Where Messages keeps its database on a Mac: `~/Library/Messages/chat.db` under the given home folder. */
export function defaultChatDbPath(home: string = homedir()): string {
  return join(home, 'Library', 'Messages', 'chat.db');
}
