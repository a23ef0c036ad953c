import type { Config } from '../common/config-schema.js';
import { loadConfig } from '../config/config.js';
import { homePaths, paviseHome, type HomePaths } from '../config/paths.js';
import { effectTarget } from '../permissions/policy.js';
import { openStorage, type Storage } from '../storage/storage.js';

/**
 * What the memory commands need from the home: config.json and the database, without the Keychain (an import or a
 * text search reads no secret). The caller closes `storage`.
 */
export function openMemoryHome(env: NodeJS.ProcessEnv): { paths: HomePaths; config: Config; storage: Storage } {
  const paths = homePaths(paviseHome(env));
  const config = loadConfig(paths.config);
  const storage = openStorage(paths.database, { grantTargetOf: effectTarget });
  return { paths, config, storage };
}
