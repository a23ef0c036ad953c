import { MissingKeyError } from '../agent/loop.js';
import type { ProviderId } from '../llm/provider.js';
import { providerKeyFromEnv, providerKeyVariable } from '../secrets/env-fallback.js';
import type { SecretStore } from '../secrets/secret-store.js';

export interface ApiKeyLookupDeps {
  readonly secrets: Pick<SecretStore, 'get'>;
  readonly env: NodeJS.ProcessEnv;
  /** Learns every key handed out, so the broker can scrub it from anything that comes back. */
  readonly remember: (name: string, value: string) => void;
}

export type ApiKeyLookup = (provider: ProviderId) => Promise<string | undefined>;

/**
 * A provider's key at the moment a request leaves: the Keychain first, then the environment variable. A missing key
 * stops the turn with a MissingKeyError that says how to store one (an OpenAI-compatible server may need none).
 */
export function createApiKeyLookup(deps: ApiKeyLookupDeps): ApiKeyLookup {
  return async (provider) => {
    let stored: string | undefined;
    let keychainProblem: string | undefined;
    try {
      stored = await deps.secrets.get(provider);
    } catch (error) {
      keychainProblem = error instanceof Error ? error.message : String(error);
    }
    const key = stored ?? providerKeyFromEnv(provider, deps.env);
    if (key) {
      deps.remember(provider, key);
      return key;
    }
    if (provider === 'openai-compatible') return undefined;
    throw new MissingKeyError(
      `No API key for ${provider}. Store one with \`pavise secrets set ${provider}\` (it reads the key from stdin) ` +
        `or set ${providerKeyVariable(provider)}.${keychainProblem ? ` (The Keychain could not be read: ${keychainProblem})` : ''}`,
    );
  };
}
