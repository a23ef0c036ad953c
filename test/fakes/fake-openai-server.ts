import {
  httpError,
  splitText,
  startFakeLlmServer,
  type FakeLlmServer,
  type FakeReply,
  type SseFrame,
} from './fake-llm-server.js';

/**
 * A fake OpenAI Chat Completions API (also standing in for Ollama, LM Studio and OpenRouter) speaking the real
 * `chat.completion.chunk` SSE format, ending with a usage chunk and `data: [DONE]`.
 *
 *   const fake = await startFakeOpenAI();
 *   fake.enqueue(openaiToolCalls([{ id: 'call_1', name: 'current_time', arguments: {} }]), openaiText('done'));
 *   new OpenAIProvider({ id: 'openai', baseURL: fake.url });
 */

export * from './fake-llm-server.js';

export interface OpenAIUsageSpec {
  readonly prompt?: number;
  readonly completion?: number;
  readonly cached?: number;
}

export interface OpenAIToolCallSpec {
  /** Omit to imitate servers that send no id. */
  readonly id?: string;
  readonly name: string;
  /** Serialised and split into several argument chunks; a string is sent as is (for malformed JSON). */
  readonly arguments?: unknown;
}

export interface OpenAITurnSpec {
  /** One string is split into a few deltas; an array is sent as exactly those deltas. */
  readonly text?: string | readonly string[];
  readonly toolCalls?: readonly OpenAIToolCallSpec[];
  /** Defaults to tool_calls when tool calls are present, else stop. */
  readonly finishReason?: 'stop' | 'tool_calls' | 'length' | 'content_filter';
  readonly usage?: OpenAIUsageSpec;
  /** Leave out the final usage chunk (servers that ignore stream_options). */
  readonly omitUsage?: boolean;
  readonly model?: string;
}

let completionCounter = 0;

/** The real chunk sequence of one streamed chat completion. */
export function openaiTurn(spec: OpenAITurnSpec): FakeReply {
  const id = `chatcmpl-fake${String(++completionCounter).padStart(6, '0')}`;
  const created = 1_700_000_000 + completionCounter;
  const model = spec.model ?? 'gpt-4.1-2025-04-14';
  const chunk = (choices: unknown[], usage: unknown = null): SseFrame => ({
    data: JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      service_tier: 'default',
      system_fingerprint: 'fp_fake',
      choices,
      usage,
    }),
  });
  const delta = (value: Record<string, unknown>, finish: string | null = null): unknown => ({
    index: 0,
    delta: value,
    logprobs: null,
    finish_reason: finish,
  });

  const frames: SseFrame[] = [chunk([delta({ role: 'assistant', content: '', refusal: null })])];
  if (spec.text !== undefined) {
    const pieces = typeof spec.text === 'string' ? splitText(spec.text) : spec.text;
    for (const content of pieces) frames.push(chunk([delta({ content })]));
  }
  (spec.toolCalls ?? []).forEach((call, index) => {
    frames.push(
      chunk([
        delta({
          tool_calls: [
            { index, ...(call.id !== undefined ? { id: call.id } : {}), type: 'function', function: { name: call.name, arguments: '' } },
          ],
        }),
      ]),
    );
    const raw = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {});
    for (const piece of splitArgs(raw)) {
      frames.push(chunk([delta({ tool_calls: [{ index, function: { arguments: piece } }] })]));
    }
  });
  const finish = spec.finishReason ?? ((spec.toolCalls?.length ?? 0) > 0 ? 'tool_calls' : 'stop');
  frames.push(chunk([delta({}, finish)]));
  if (!spec.omitUsage) {
    const usage = spec.usage ?? {};
    const prompt = usage.prompt ?? 12;
    const completion = usage.completion ?? 5;
    frames.push(
      chunk([], {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        prompt_tokens_details: { cached_tokens: usage.cached ?? 0, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      }),
    );
  }
  frames.push({ data: '[DONE]' });
  return { kind: 'stream', frames, headers: { 'x-request-id': `req_fake${completionCounter}` } };
}

export function openaiText(text: string | readonly string[], options: Omit<OpenAITurnSpec, 'text' | 'toolCalls'> = {}): FakeReply {
  return openaiTurn({ ...options, text });
}

export function openaiToolCalls(
  calls: readonly OpenAIToolCallSpec[],
  options: Omit<OpenAITurnSpec, 'toolCalls'> = {},
): FakeReply {
  return openaiTurn({ ...options, toolCalls: calls });
}

/** The real error body: `{"error":{"message","type","param","code"}}`. */
export function openaiError(
  status: number,
  message: string,
  type: string,
  code: string | null = null,
  headers?: Readonly<Record<string, string>>,
): FakeReply {
  return httpError(status, { error: { message, type, param: null, code } }, { 'x-request-id': 'req_fake_error', ...headers });
}

export function openaiRateLimited(headers: Readonly<Record<string, string>> = {}): FakeReply {
  return openaiError(
    429,
    'Rate limit reached for gpt-4.1 in organization org-fake on tokens per min (TPM): Limit 30000, Used 30000, Requested 500.',
    'tokens',
    'rate_limit_exceeded',
    headers,
  );
}

export function openaiQuotaExceeded(): FakeReply {
  return openaiError(
    429,
    'You exceeded your current quota, please check your plan and billing details.',
    'insufficient_quota',
    'insufficient_quota',
  );
}

export function openaiServerError(status = 500): FakeReply {
  return openaiError(status, 'The server had an error while processing your request. Sorry about that!', 'server_error');
}

export function openaiUnauthorized(): FakeReply {
  return openaiError(
    401,
    'Incorrect API key provided: sk-fake***1234. You can find your API key at https://platform.openai.com/account/api-keys.',
    'invalid_request_error',
    'invalid_api_key',
  );
}

export function openaiContextOverflow(): FakeReply {
  return openaiError(
    400,
    "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.",
    'invalid_request_error',
    'context_length_exceeded',
  );
}

/** An error object sent as a data line after the stream started. */
export function openaiStreamErrorFrame(message = 'The server had an error while processing your request.', type = 'server_error'): SseFrame {
  return { data: JSON.stringify({ error: { message, type, param: null, code: null } }) };
}

export interface StartFakeOpenAIOptions {
  /** When set, other keys get the real 401 invalid_api_key error. */
  readonly apiKey?: string;
}

export function startFakeOpenAI(options: StartFakeOpenAIOptions = {}): Promise<FakeLlmServer> {
  return startFakeLlmServer({
    name: 'fake-openai',
    basePath: '/v1',
    endpoint: '/v1/chat/completions',
    requiredKey: options.apiKey,
    unauthorized: openaiUnauthorized,
    notFound: (path) => openaiError(404, `fake-openai: no route for ${path}`, 'invalid_request_error', 'unknown_url'),
    // A 400, so providers surface it at once instead of retrying.
    unscripted: (index) =>
      openaiError(400, `fake-openai: no reply scripted for request #${index + 1}`, 'invalid_request_error'),
  });
}

function splitArgs(raw: string): string[] {
  if (raw.length <= 4) return [raw];
  const size = Math.ceil(raw.length / 3);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += size) out.push(raw.slice(i, i + size));
  return out;
}
