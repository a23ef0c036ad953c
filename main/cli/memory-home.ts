import type { Config } from '../common/config-schema.js';
import { loadConfig } from '../config/config.js';
import { homePaths, paviseHome, type HomePaths } from '../config/paths.js';
import { effectTarget } from '../permissions/policy.js';
import { openStorage, type Storage } from '../storage/storage.js';

/**
 * What the memory commands need from the home: config.json and the database, without the Keychain (a command that needs
 * it, an import scrubbing secrets or a search asking an embeddings endpoint, opens it itself). The caller closes `storage`.
 */
export function openMemoryHome(env: NodeJS.ProcessEnv): { paths: HomePaths; config: Config; storage: Storage } {
  const paths = homePaths(paviseHome(env));
  const config = loadConfig(paths.config);
  const storage = openStorage(paths.database, { grantTargetOf: effectTarget });
  return { paths, config, storage };
}
