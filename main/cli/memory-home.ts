import type { Config } from '../common/config-schema.js';
import { loadConfig } from '../config/config.js';
import { defaultPaviseHome, homePaths, paviseHome, type HomePaths } from '../config/paths.js';
import { SecretBroker } from '../permissions/secret-broker.js';
import { effectTarget } from '../permissions/policy.js';
import { KeychainSecretStore, keychainServiceFor } from '../secrets/keychain-secret-store.js';
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

/**
 * Every secret Pavise holds (the Keychain's, and an API key in the environment, as the app loads them), so that what
 * a memory command stores (an import, a memory the owner adds) holds none of them. Without a Keychain there is
 * nothing stored to scrub; the environment's keys still are.
 */
export async function secretScrubber(env: NodeJS.ProcessEnv): Promise<SecretBroker> {
  const broker = new SecretBroker(new KeychainSecretStore(keychainServiceFor(paviseHome(env), defaultPaviseHome(env))));
  await broker.load({ 'env:ANTHROPIC_API_KEY': env.ANTHROPIC_API_KEY, 'env:OPENAI_API_KEY': env.OPENAI_API_KEY });
  return broker;
}
