import { OWNER, type AssistantMessage, type Message, type ToolResultMessage, type UserMessage } from '../../main/common/messages.js';
import type { ModelRequest, ProviderEvent, ToolSpec } from '../../main/llm/provider.js';
import type { RetryPolicy } from '../../main/llm/retry.js';

/** Small waits so retry tests stay fast; the cap is high enough for the honoured retry-after values. */
export const FAST_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 5_000 };

export const KEY = 'sk-test-key-0123456789abcdef';

export function user(content: string): UserMessage {
  return { role: 'user', content, provenance: OWNER, timestamp: 1 };
}

export function assistant(
  content: AssistantMessage['content'],
  overrides: Partial<Pick<AssistantMessage, 'stopReason' | 'provider' | 'error'>> = {},
): AssistantMessage {
  return {
    role: 'assistant',
    content,
    stopReason: overrides.stopReason ?? (content.some((block) => block.type === 'toolCall') ? 'toolUse' : 'stop'),
    usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
    provider: overrides.provider ?? 'anthropic',
    model: 'model',
    ...(overrides.error ? { error: overrides.error } : {}),
    timestamp: 2,
  };
}

export function toolResult(toolCallId: string, toolName: string, content: string, isError = false): ToolResultMessage {
  return {
    role: 'toolResult',
    toolCallId,
    toolName,
    content,
    isError,
    provenance: { kind: 'untrusted', source: 'tool_output' },
    timestamp: 3,
  };
}

export const WEATHER_TOOL: ToolSpec = {
  name: 'get_weather',
  description: 'Weather for a city.',
  inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

export const TIME_TOOL: ToolSpec = {
  name: 'current_time',
  description: 'The current time.',
  inputSchema: { type: 'object', properties: {} },
};

export function request(messages: readonly Message[], overrides: Partial<ModelRequest> = {}): ModelRequest {
  return {
    model: 'test-model',
    system: 'You are a careful assistant.',
    messages,
    tools: [],
    maxOutputTokens: 1024,
    ...overrides,
  };
}

/** Collects provider events and optionally reacts to them. */
export function recorder(react?: (event: ProviderEvent) => void): {
  events: ProviderEvent[];
  onEvent: (event: ProviderEvent) => void;
  deltas: () => string[];
  retries: () => Extract<ProviderEvent, { type: 'retry' }>[];
} {
  const events: ProviderEvent[] = [];
  return {
    events,
    onEvent: (event) => {
      events.push(event);
      react?.(event);
    },
    deltas: () => events.flatMap((event) => (event.type === 'text_delta' ? [event.text] : [])),
    retries: () => events.filter((event): event is Extract<ProviderEvent, { type: 'retry' }> => event.type === 'retry'),
  };
}
