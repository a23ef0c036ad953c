import type { Config } from '../common/config-schema.js';
import { BruteForceVectorIndex, OpenAiCompatibleEmbedder } from '../memory/embeddings.js';
import type { VectorRanker } from '../memory/recall.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { MemoryStore } from '../storage/memory-store.js';
import type { Switches } from '../storage/switches.js';

/**
 * The vector ranking when `memory.embeddings` is configured; its key (`memory.embeddings.keyName`) is read from the
 * Keychain as each request leaves, never kept. While Pavise is paused no request leaves: recall uses text and says so.
 */
export async function embeddingsRanker(config: Config, store: MemoryStore, secrets: () => SecretStore, switches: Pick<Switches, 'get'>): Promise<VectorRanker | undefined> {
  const settings = config.memory.embeddings;
  if (!settings) return undefined;
  const keyName = settings.keyName;
  const embedder = new OpenAiCompatibleEmbedder({
    baseURL: settings.baseURL,
    model: settings.model,
    ...(keyName ? { apiKey: () => secrets().get(keyName) } : {}),
    refusal: () => (switches.get('paused').on ? 'Pavise is paused (`pavise resume` allows it again)' : undefined),
  });
  return new BruteForceVectorIndex(store, embedder);
}
