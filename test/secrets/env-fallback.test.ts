import { describe, expect, it } from 'vitest';
import { providerKeyFromEnv, providerKeyVariable } from '../../main/secrets/env-fallback.js';

describe('providerKeyFromEnv', () => {
  const env = { ANTHROPIC_API_KEY: 'sk-ant-from-env', OPENAI_API_KEY: ' sk-openai-from-env\n' };

  it('reads ANTHROPIC_API_KEY for anthropic', () => {
    expect(providerKeyVariable('anthropic')).toBe('ANTHROPIC_API_KEY');
    expect(providerKeyFromEnv('anthropic', env)).toBe('sk-ant-from-env');
  });

  it('reads OPENAI_API_KEY for openai and openai-compatible, without surrounding whitespace', () => {
    expect(providerKeyFromEnv('openai', env)).toBe('sk-openai-from-env');
    expect(providerKeyFromEnv('openai-compatible', env)).toBe('sk-openai-from-env');
  });

  it('treats a missing or blank variable as unset', () => {
    expect(providerKeyFromEnv('anthropic', {})).toBeUndefined();
    expect(providerKeyFromEnv('anthropic', { ANTHROPIC_API_KEY: '' })).toBeUndefined();
    expect(providerKeyFromEnv('openai', { OPENAI_API_KEY: '   ' })).toBeUndefined();
  });
});
