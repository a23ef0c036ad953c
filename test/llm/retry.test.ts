import { describe, expect, it } from 'vitest';
import type { ProviderEvent } from '../../main/llm/provider.js';
import { createProvider } from '../../main/llm/create-provider.js';
import { anthropicText, startFakeAnthropic } from '../fakes/fake-anthropic-server.js';
import { openaiText, startFakeOpenAI } from '../fakes/fake-openai-server.js';
import { normaliseToolId, prepareHistory } from '../../main/llm/providers/shared.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter, withRetries } from '../../main/llm/retry.js';
import { assistant, toolResult, user } from './fixtures.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');

  it('reads seconds, fractional seconds and milliseconds, preferring retry-after-ms', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after': '7' }), now)).toBe(7_000);
    expect(parseRetryAfter(new Headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '1234', 'retry-after': '9' }), now)).toBe(1_234);
    expect(parseRetryAfter({ 'Retry-After': '3' }, now)).toBe(3_000);
  });

  it('reads an HTTP date relative to now, and a past date as 0', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Sun, 01 Jun 2025 12:00:30 GMT' }), now)).toBe(30_000);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Sun, 01 Jun 2025 11:00:00 GMT' }), now)).toBe(0);
  });

  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(new Headers(), now)).toBeUndefined();
    expect(parseRetryAfter(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  const policy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1_000 };

  it('doubles per attempt with jitter between half and all of the step, capped', () => {
    expect(backoffDelay(2, policy, () => 0)).toBe(50);
    expect(backoffDelay(2, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 1)).toBe(200);
    expect(backoffDelay(4, policy, () => 0.5)).toBe(300);
    expect(backoffDelay(10, policy, () => 1)).toBe(1_000);
  });

  it('defaults to four attempts and a one-minute cap', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({ maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 60_000 });
  });
});

describe('withRetries', () => {
  it('retries until a final value and reports each wait before it happens', async () => {
    const events: ProviderEvent[] = [];
    const outcome = await withRetries<string>({
      policy: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 1_000 },
      onEvent: (event) => events.push(event),
      attempt: async (n) => (n < 3 ? `fail${n}` : 'ok'),
      retryable: (value) => (value.startsWith('fail') ? { reason: value, ...(value === 'fail1' ? { retryAfterMs: 7 } : {}) } : undefined),
      random: () => 1,
    });
    expect(outcome).toEqual({ value: 'ok', attempts: 3 });
    expect(events).toEqual([
      { type: 'retry', attempt: 2, delayMs: 7, reason: 'fail1' },
      { type: 'retry', attempt: 3, delayMs: 20, reason: 'fail2' },
    ]);
  });

  it('stops at maxAttempts', async () => {
    let calls = 0;
    const outcome = await withRetries({
      policy: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 10 },
      attempt: async () => ++calls,
      retryable: () => ({ reason: 'always' }),
    });
    expect(outcome).toEqual({ value: 2, attempts: 2, gaveUp: 'exhausted' });
  });
});

describe('tool ids and history repair', () => {
  it('keeps valid ids and maps others deterministically into the allowed shape', () => {
    expect(normaliseToolId('toolu_01ABC-x', 64)).toBe('toolu_01ABC-x');
    const foreign = 'fc_abc|call/def:ghi';
    const once = normaliseToolId(foreign, 40);
    expect(once).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(normaliseToolId(foreign, 40)).toBe(once);
    expect(normaliseToolId('fc_abc|call/def:ghj', 40)).not.toBe(once);
    expect(normaliseToolId('x'.repeat(100), 64)).toHaveLength(64);
  });

  it('drops results that answer no call and orders results like their calls', () => {
    const repaired = prepareHistory([
      toolResult('orphan', 'current_time', 'late'),
      user('hi'),
      assistant([
        { type: 'toolCall', id: 'a', name: 'one', input: {} },
        { type: 'toolCall', id: 'b', name: 'two', input: {} },
      ]),
      toolResult('b', 'two', 'B'),
      toolResult('a', 'one', 'A'),
    ]);
    expect(repaired.map((message) => (message.role === 'toolResult' ? message.toolCallId : message.role))).toEqual([
      'user',
      'assistant',
      'a',
      'b',
    ]);
  });
});

describe('createProvider', () => {
  it('builds the provider named in the config, loading its SDK on demand', async () => {
    const anthropic = await startFakeAnthropic();
    const openai = await startFakeOpenAI();
    try {
      anthropic.enqueue(anthropicText('from anthropic'));
      openai.enqueue(openaiText('from openai'));
      const request = { model: 'm', system: 's', messages: [{ role: 'user' as const, content: 'hi', provenance: { kind: 'owner' as const }, timestamp: 0 }], tools: [], maxOutputTokens: 256 };
      const viaAnthropic = createProvider({ provider: 'anthropic', baseURL: anthropic.url });
      expect(viaAnthropic.id).toBe('anthropic');
      expect((await viaAnthropic.complete(request, { apiKey: 'k' })).content).toEqual([{ type: 'text', text: 'from anthropic' }]);
      const local = createProvider({ provider: 'openai-compatible', baseURL: openai.url });
      expect(local.id).toBe('openai-compatible');
      expect((await local.complete(request, { apiKey: undefined })).content).toEqual([{ type: 'text', text: 'from openai' }]);
      expect(anthropic.requests[0]?.path).toBe('/v1/messages');
      expect(openai.requests[0]?.path).toBe('/v1/chat/completions');
    } finally {
      await anthropic.close();
      await openai.close();
    }
  });
});
