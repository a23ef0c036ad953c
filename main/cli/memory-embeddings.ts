import type { Config } from '../common/config-schema.js';
import { defaultPaviseHome, type HomePaths } from '../config/paths.js';
import { BruteForceVectorIndex, OpenAiCompatibleEmbedder } from '../memory/embeddings.js';
import type { VectorRanker } from '../memory/recall.js';
import { KeychainSecretStore, keychainServiceFor } from '../secrets/keychain-secret-store.js';
import type { MemoryStore } from '../storage/memory-store.js';

/** The vector ranking when `memory.embeddings` is configured (its key read from the Keychain as a request leaves). */
export async function embeddingsRanker(config: Config, store: MemoryStore, env: NodeJS.ProcessEnv, paths: HomePaths): Promise<VectorRanker | undefined> {
  const settings = config.memory.embeddings;
  if (!settings) return undefined;
  const keyName = settings.keyName;
  const secrets = keyName === undefined ? undefined : new KeychainSecretStore(keychainServiceFor(paths.home, defaultPaviseHome(env)));
  const embedder = new OpenAiCompatibleEmbedder({
    baseURL: settings.baseURL,
    model: settings.model,
    ...(secrets && keyName ? { apiKey: () => secrets.get(keyName) } : {}),
  });
  return new BruteForceVectorIndex(store, embedder);
}
