import type { CallOptions, ModelRequest, Provider, ProviderId } from './provider.js';
import type { RetryPolicy } from './retry.js';

export interface ProviderConfig {
  readonly provider: ProviderId;
  readonly baseURL?: string | undefined;
}

/**
 * The one place a provider id becomes an implementation (registered explicitly, never by side-effect import).
 * The SDK behind it is loaded on demand — only the configured one, and in the background from the moment the
 * provider is created — which keeps `pavise ask` from paying for both SDKs at start-up.
 */
export function createProvider(config: ProviderConfig, retry?: RetryPolicy): Provider {
  const load = async (): Promise<Provider> => {
    switch (config.provider) {
      case 'anthropic': {
        const { AnthropicProvider } = await import('./providers/anthropic.js');
        return new AnthropicProvider({ baseURL: config.baseURL, retry });
      }
      case 'openai':
      case 'openai-compatible': {
        const { OpenAIProvider } = await import('./providers/openai.js');
        return new OpenAIProvider({ id: config.provider, baseURL: config.baseURL, retry });
      }
    }
  };
  const loading = load();
  // Surfaced through complete(); never an unhandled rejection.
  loading.catch(() => undefined);
  return {
    id: config.provider,
    async complete(request: ModelRequest, options: CallOptions) {
      let provider: Provider;
      try {
        provider = await loading;
      } catch (error) {
        return {
          role: 'assistant',
          content: [],
          stopReason: 'error',
          usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
          provider: config.provider,
          model: request.model,
          error: { code: 'bad_request', message: `The ${config.provider} client could not be loaded (${error instanceof Error ? error.message : String(error)}); reinstall with ./scripts/start.sh.` },
          timestamp: Date.now(),
        };
      }
      return provider.complete(request, options);
    },
  };
}
