import {
  httpError,
  splitText,
  startFakeLlmServer,
  type FakeLlmServer,
  type FakeReply,
  type SseFrame,
} from './fake-llm-server.js';

/**
 * A fake Anthropic Messages API speaking the real SSE wire format, for provider tests, end-to-end CLI tests and
 * the compromised-model security suite.
 *
 *   const fake = await startFakeAnthropic();
 *   fake.enqueue(anthropicToolUse('toolu_1', 'current_time', {}), anthropicText('done'));
 *   new AnthropicProvider({ baseURL: fake.url });
 *   fake.requests[0].body; await fake.close();
 */

export * from './fake-llm-server.js';

export interface AnthropicUsageSpec {
  readonly input?: number;
  readonly output?: number;
  readonly cacheRead?: number;
  readonly cacheWrite?: number;
}

export type AnthropicBlockSpec =
  /** `text` as one string is split into a few deltas; as an array it is sent as exactly those deltas. */
  | { readonly type: 'text'; readonly text: string | readonly string[] }
  | {
      readonly type: 'tool_use';
      readonly id: string;
      readonly name: string;
      /** Serialised and split into several input_json_delta chunks. */
      readonly input?: unknown;
      /** Sent instead of `input`, as is (for malformed tool JSON); an array gives the exact chunks. */
      readonly rawJson?: string | readonly string[];
    };

export interface AnthropicTurnSpec {
  readonly blocks: readonly AnthropicBlockSpec[];
  /** Defaults to tool_use when a tool_use block is present, else end_turn. */
  readonly stopReason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'refusal' | 'pause_turn';
  readonly usage?: AnthropicUsageSpec;
  readonly model?: string;
  readonly messageId?: string;
  /** Send a `ping` event after message_start, as the real API does. */
  readonly ping?: boolean;
}

export interface AnthropicReplyOptions {
  readonly usage?: AnthropicUsageSpec;
  readonly stopReason?: AnthropicTurnSpec['stopReason'];
  readonly model?: string;
}

let messageCounter = 0;

function frame(type: string, payload: Record<string, unknown>): SseFrame {
  return { event: type, data: JSON.stringify({ type, ...payload }) };
}

/** The real event sequence of one streamed message. */
export function anthropicTurn(spec: AnthropicTurnSpec): FakeReply {
  const usage = spec.usage ?? {};
  const hasTool = spec.blocks.some((block) => block.type === 'tool_use');
  const frames: SseFrame[] = [
    frame('message_start', {
      message: {
        id: spec.messageId ?? `msg_fake${String(++messageCounter).padStart(6, '0')}`,
        type: 'message',
        role: 'assistant',
        model: spec.model ?? 'claude-sonnet-4-5',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: usage.input ?? 10,
          output_tokens: 1,
          cache_creation_input_tokens: usage.cacheWrite ?? 0,
          cache_read_input_tokens: usage.cacheRead ?? 0,
        },
      },
    }),
  ];
  if (spec.ping ?? true) frames.push(frame('ping', {}));
  spec.blocks.forEach((block, index) => {
    if (block.type === 'text') {
      frames.push(frame('content_block_start', { index, content_block: { type: 'text', text: '' } }));
      const pieces = typeof block.text === 'string' ? splitText(block.text) : block.text;
      for (const text of pieces) {
        frames.push(frame('content_block_delta', { index, delta: { type: 'text_delta', text } }));
      }
    } else {
      frames.push(
        frame('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } }),
      );
      const raw = block.rawJson ?? JSON.stringify(block.input ?? {});
      const pieces = typeof raw === 'string' ? ['', ...splitJson(raw)] : raw;
      for (const partial_json of pieces) {
        frames.push(frame('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } }));
      }
    }
    frames.push(frame('content_block_stop', { index }));
  });
  frames.push(
    frame('message_delta', {
      delta: { stop_reason: spec.stopReason ?? (hasTool ? 'tool_use' : 'end_turn'), stop_sequence: null },
      usage: { output_tokens: usage.output ?? 5 },
    }),
  );
  frames.push(frame('message_stop', {}));
  return { kind: 'stream', frames, headers: { 'request-id': `req_fake${messageCounter}` } };
}

/** A text reply. Frames: message_start, ping, content_block_start, one delta per piece, stop, message_delta, message_stop. */
export function anthropicText(text: string | readonly string[], options: AnthropicReplyOptions = {}): FakeReply {
  return anthropicTurn({ blocks: [{ type: 'text', text }], ...options });
}

/** A single tool call, optionally preceded by text; the input JSON arrives split over several deltas. */
export function anthropicToolUse(
  id: string,
  name: string,
  input: unknown,
  options: AnthropicReplyOptions & { readonly text?: string } = {},
): FakeReply {
  const blocks: AnthropicBlockSpec[] = [];
  if (options.text) blocks.push({ type: 'text', text: options.text });
  blocks.push({ type: 'tool_use', id, name, input });
  return anthropicTurn({ blocks, ...options });
}

/** The real error body: `{"type":"error","error":{"type":...,"message":...}}`. */
export function anthropicError(
  status: number,
  type: string,
  message: string,
  headers?: Readonly<Record<string, string>>,
): FakeReply {
  return httpError(status, { type: 'error', error: { type, message } }, { 'request-id': 'req_fake_error', ...headers });
}

export function anthropicRateLimited(headers: Readonly<Record<string, string>> = {}): FakeReply {
  return anthropicError(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.', headers);
}

export function anthropicOverloaded(): FakeReply {
  return anthropicError(529, 'overloaded_error', 'Overloaded');
}

export function anthropicServerError(status = 500): FakeReply {
  return anthropicError(status, 'api_error', 'Internal server error');
}

export function anthropicUnauthorized(): FakeReply {
  return anthropicError(401, 'authentication_error', 'invalid x-api-key');
}

/** What the API answers when the organisation's prepaid credit ran out: a 400, not a 429 (billing is not a rate). */
export function anthropicCreditTooLow(): FakeReply {
  return anthropicError(400, 'invalid_request_error', 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.');
}

export function anthropicContextOverflow(): FakeReply {
  return anthropicError(400, 'invalid_request_error', 'prompt is too long: 212345 tokens > 200000 maximum');
}

/** The `event: error` frame the API sends when a stream fails after it started. */
export function anthropicStreamErrorFrame(type = 'overloaded_error', message = 'Overloaded'): SseFrame {
  return { event: 'error', data: JSON.stringify({ type: 'error', error: { type, message } }) };
}

export interface StartFakeAnthropicOptions {
  /** When set, other keys get the real 401 authentication_error. */
  readonly apiKey?: string;
}

export function startFakeAnthropic(options: StartFakeAnthropicOptions = {}): Promise<FakeLlmServer> {
  return startFakeLlmServer({
    name: 'fake-anthropic',
    basePath: '',
    endpoint: '/v1/messages',
    requiredKey: options.apiKey,
    unauthorized: anthropicUnauthorized,
    notFound: (path) => anthropicError(404, 'not_found_error', `fake-anthropic: no route for ${path}`),
    // A 400, so providers surface it at once instead of retrying.
    unscripted: (index) =>
      anthropicError(400, 'invalid_request_error', `fake-anthropic: no reply scripted for request #${index + 1}`),
  });
}

function splitJson(raw: string): string[] {
  if (raw.length <= 4) return [raw];
  const size = Math.ceil(raw.length / 4);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += size) out.push(raw.slice(i, i + size));
  return out;
}
