import type { Provider, ProviderId } from './provider.js';
import { AnthropicProvider } from './providers/anthropic.js';
import { OpenAIProvider } from './providers/openai.js';
import type { RetryPolicy } from './retry.js';

export interface ProviderConfig {
  readonly provider: ProviderId;
  readonly baseURL?: string | undefined;
}

/** The one place a provider id becomes an implementation (registered explicitly, never by side-effect import). */
export function createProvider(config: ProviderConfig, retry?: RetryPolicy): Provider {
  switch (config.provider) {
    case 'anthropic':
      return new AnthropicProvider({ baseURL: config.baseURL, retry });
    case 'openai':
    case 'openai-compatible':
      return new OpenAIProvider({ id: config.provider, baseURL: config.baseURL, retry });
  }
}
