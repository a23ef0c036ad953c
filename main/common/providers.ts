/** The model providers Pavise speaks to: the one list every config schema, IPC contract and picker uses. */
export const PROVIDER_IDS = ['anthropic', 'openai', 'openai-compatible'] as const;

export type ProviderId = (typeof PROVIDER_IDS)[number];

/** How the settings UI names each provider. */
export const PROVIDER_LABELS: Readonly<Record<ProviderId, string>> = {
  anthropic: 'Anthropic',
  openai: 'OpenAI',
  'openai-compatible': 'OpenAI-compatible server',
};

/** The environment variable read for a provider's API key when the Keychain holds none. */
export const PROVIDER_KEY_VARIABLES: Readonly<Record<ProviderId, string>> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  'openai-compatible': 'OPENAI_API_KEY',
};

/** Every distinct API-key environment variable, in PROVIDER_IDS order. */
export const API_KEY_VARIABLES: readonly string[] = [...new Set(PROVIDER_IDS.map((id) => PROVIDER_KEY_VARIABLES[id]))];
