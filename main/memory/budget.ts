import type { ModelConfig } from '../common/config-schema.js';

/** Context windows of the models Pavise knows by name prefix (tokens); the first match wins. */
const WINDOWS: readonly (readonly [RegExp, number])[] = [
  [/^claude-/, 200_000],
  [/^gpt-4\.1/, 1_000_000],
  [/^gpt-5/, 400_000],
  [/^(gpt-4o|o[134])/, 128_000],
];

/** What an unknown model (a local server's) is assumed to take: small, so a turn fits wherever it runs. */
const UNKNOWN_WINDOW = 8_192;

/**
 * Input tokens above this cost more than they help a personal assistant's turn: the memory preamble and recall
 * bring back what matters from further back, and every turn of a long conversation costs about the same.
 */
const COST_CEILING = 12_000;

export function contextWindowOf(model: Pick<ModelConfig, 'provider' | 'name'>): number {
  for (const [pattern, window] of WINDOWS) if (pattern.test(model.name)) return window;
  return UNKNOWN_WINDOW;
}

/** `memory.contextTokens` when the config leaves it out: what the model takes, leaving room for its answer. */
export function defaultContextTokens(model: Pick<ModelConfig, 'provider' | 'name' | 'maxOutputTokens'>): number {
  const window = contextWindowOf(model);
  return Math.max(2_000, Math.min(COST_CEILING, window - model.maxOutputTokens - 512));
}
