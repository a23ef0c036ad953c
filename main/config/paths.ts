import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where a Carapace lives when CARAPACE_HOME is not set. */
export function defaultCarapaceHome(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Carapace');
  const dataHome = env.XDG_DATA_HOME && env.XDG_DATA_HOME.length > 0 ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(dataHome, 'carapace');
}

export function carapaceHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const explicit = env.CARAPACE_HOME;
  return explicit && explicit.length > 0 ? explicit : defaultCarapaceHome(env, platform);
}

export interface HomePaths {
  readonly home: string;
  readonly config: string;
  readonly database: string;
  readonly soul: string;
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    config: join(home, 'config.json'),
    database: join(home, 'carapace.db'),
    soul: join(home, 'SOUL.md'),
  };
}
