import { PROVIDER_KEY_VARIABLES, type ProviderId } from '../common/providers.js';

/** The environment variable consulted when the Keychain holds no key for a provider. */
export function providerKeyVariable(provider: ProviderId): string {
  return PROVIDER_KEY_VARIABLES[provider];
}

/**
 * A provider's API key from the environment, for machines without a Keychain (CI, a headless Linux box). Read at
 * the moment a request leaves, like a Keychain secret. Surrounding whitespace is dropped; a blank variable counts
 * as unset.
 */
export function providerKeyFromEnv(provider: ProviderId, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[providerKeyVariable(provider)]?.trim();
  return value && value.length > 0 ? value : undefined;
}
