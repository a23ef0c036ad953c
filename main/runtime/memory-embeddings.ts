import type { Config } from '../common/config-schema.js';
import { BruteForceVectorIndex, OpenAiCompatibleEmbedder } from '../memory/embeddings.js';
import type { VectorRanker } from '../memory/recall.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { MemoryStore } from '../storage/memory-store.js';

/**
 * The vector ranking when `memory.embeddings` is configured; its key (`memory.embeddings.keyName`) is read from the
 * Keychain as each request leaves, never kept.
 */
export async function embeddingsRanker(config: Config, store: MemoryStore, secrets: () => SecretStore): Promise<VectorRanker | undefined> {
  const settings = config.memory.embeddings;
  if (!settings) return undefined;
  const keyName = settings.keyName;
  const embedder = new OpenAiCompatibleEmbedder({
    baseURL: settings.baseURL,
    model: settings.model,
    ...(keyName ? { apiKey: () => secrets().get(keyName) } : {}),
  });
  return new BruteForceVectorIndex(store, embedder);
}
