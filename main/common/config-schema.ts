import { z } from 'zod';

/**
 * The shape of config.json. Shared by the core (which loads it) and the settings UI (which edits it).
 * Objects are strict so a misspelt field is reported instead of silently ignored.
 */

export const PROVIDER_IDS = ['anthropic', 'openai', 'openai-compatible'] as const;

export const DEFAULT_MODEL_NAMES: Readonly<Record<(typeof PROVIDER_IDS)[number], string | undefined>> = {
  anthropic: 'claude-sonnet-4-5',
  openai: 'gpt-4.1',
  'openai-compatible': undefined,
};

export const ModelConfigSchema = z
  .strictObject({
    provider: z.enum(PROVIDER_IDS).default('anthropic'),
    name: z.string().min(1).optional(),
    baseURL: z.url({ protocol: /^https?$/ }).optional(),
    maxOutputTokens: z.int().min(256).max(128_000).default(4096),
  })
  .superRefine((model, ctx) => {
    if (model.provider === 'openai-compatible' && !model.baseURL) {
      ctx.addIssue({
        code: 'custom',
        path: ['baseURL'],
        message: 'is required when provider is "openai-compatible" (for example "http://localhost:11434/v1" for Ollama)',
      });
    }
    if (model.provider === 'openai-compatible' && !model.name) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'is required when provider is "openai-compatible"' });
    }
  })
  .transform((model) => ({ ...model, name: model.name ?? DEFAULT_MODEL_NAMES[model.provider] ?? '' }));

export const LimitsConfigSchema = z.strictObject({
  maxStepsPerTurn: z.int().min(1).max(100).default(12),
  maxTokensPerTurn: z.int().min(1_000).max(5_000_000).default(400_000),
});

export const ConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  model: ModelConfigSchema.prefault({}),
  limits: LimitsConfigSchema.prefault({}),
});

export type Config = z.output<typeof ConfigSchema>;
export type ModelConfig = Config['model'];
