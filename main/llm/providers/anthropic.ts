import Anthropic, { APIConnectionError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import {
  ZERO_USAGE,
  type AssistantMessage,
  type Message,
  type StopReason,
  type TextBlock,
  type ToolCallBlock,
  type Usage,
} from '../../common/messages.js';
import type { CallOptions, ModelRequest, Provider } from '../provider.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, type RetryPolicy } from '../retry.js';
import {
  classifyHttpError,
  classifyStreamError,
  cleanDetail,
  completeWithRetries,
  isPlainObject,
  normaliseToolId,
  parseToolInput,
  prepareHistory,
  type AttemptContext,
  type AttemptResult,
  type Failure,
} from './shared.js';

type MessageParam = Anthropic.Messages.MessageParam;
type ContentBlockParam = Anthropic.Messages.ContentBlockParam;
type RawEvent = Anthropic.Messages.RawMessageStreamEvent;

export interface AnthropicProviderOptions {
  readonly baseURL?: string | undefined;
  readonly retry?: RetryPolicy | undefined;
}

const TOOL_ID_MAX = 64;

/**
 * The Anthropic Messages API over streaming SSE, through the official SDK with its own retries turned off (the
 * shared loop retries, and only before any output reached the caller). The key arrives per call and lives only
 * in the per-call client.
 */
export class AnthropicProvider implements Provider {
  readonly id = 'anthropic' as const;
  readonly #baseURL: string | undefined;
  readonly #policy: RetryPolicy;

  constructor(options: AnthropicProviderOptions = {}) {
    this.#baseURL = options.baseURL;
    this.#policy = options.retry ?? DEFAULT_RETRY_POLICY;
  }

  complete(request: ModelRequest, options: CallOptions): Promise<AssistantMessage> {
    const apiKey = options.apiKey;
    return completeWithRetries({
      providerId: this.id,
      label: 'Anthropic',
      model: request.model,
      policy: this.#policy,
      options,
      attempt: async (context) => {
        if (!apiKey) return { ok: false, failure: { code: 'missing_key' }, partial: [], usage: ZERO_USAGE, emitted: false };
        const client = new Anthropic({
          apiKey,
          ...(this.#baseURL ? { baseURL: this.#baseURL } : {}),
          maxRetries: 0,
          logLevel: 'off',
          openTelemetry: false,
        });
        return streamOnce(client, buildRequest(request), request.model, apiKey, options.signal, context);
      },
    });
  }
}

/** The request body: cacheable system prompt and tool list (the stable prefix), then the mapped history. */
export function buildRequest(request: ModelRequest): Anthropic.Messages.MessageCreateParamsStreaming {
  const tools: Anthropic.Messages.Tool[] = request.tools.map((tool, index) => ({
    name: tool.name,
    description: tool.description,
    input_schema: { type: 'object', ...tool.inputSchema } as Anthropic.Messages.Tool.InputSchema,
    ...(index === request.tools.length - 1 ? { cache_control: { type: 'ephemeral' as const } } : {}),
  }));
  return {
    model: request.model,
    max_tokens: request.maxOutputTokens,
    stream: true,
    ...(request.system ? { system: [{ type: 'text', text: request.system, cache_control: { type: 'ephemeral' } }] } : {}),
    messages: toAnthropicMessages(request.messages),
    ...(tools.length > 0 ? { tools } : {}),
  };
}

/**
 * Provider-neutral history to Anthropic messages: tool results become tool_result blocks of a user message,
 * same-role neighbours are merged (the API requires alternation) and foreign tool-call ids are normalised.
 */
export function toAnthropicMessages(messages: readonly Message[]): MessageParam[] {
  const out: { role: 'user' | 'assistant'; content: ContentBlockParam[] }[] = [];
  const append = (role: 'user' | 'assistant', blocks: ContentBlockParam[]): void => {
    if (blocks.length === 0) return;
    const last = out.at(-1);
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const message of prepareHistory(messages)) {
    switch (message.role) {
      case 'user':
        // The API rejects empty text blocks.
        append('user', message.content ? [{ type: 'text', text: message.content }] : []);
        break;
      case 'toolResult':
        append('user', [
          {
            type: 'tool_result',
            tool_use_id: normaliseToolId(message.toolCallId, TOOL_ID_MAX),
            content: message.content,
            ...(message.isError ? { is_error: true } : {}),
          },
        ]);
        break;
      case 'assistant':
        append(
          'assistant',
          message.content.map((block): ContentBlockParam =>
            block.type === 'text'
              ? { type: 'text', text: block.text }
              : {
                  type: 'tool_use',
                  id: normaliseToolId(block.id, TOOL_ID_MAX),
                  name: block.name,
                  input: isPlainObject(block.input) ? block.input : {},
                },
          ),
        );
        break;
    }
  }
  // Tool results must open the user message that carries them.
  for (const message of out) {
    if (message.role !== 'user') continue;
    message.content.sort((a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'));
  }
  return out;
}

type BlockState =
  | { kind: 'text'; text: string }
  | { kind: 'tool'; id: string; name: string; json: string; done: boolean }
  | { kind: 'other' };

const STOP_REASONS: Readonly<Record<string, StopReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  refusal: 'stop',
  tool_use: 'toolUse',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
};

async function streamOnce(
  client: Anthropic,
  body: Anthropic.Messages.MessageCreateParamsStreaming,
  model: string,
  apiKey: string,
  signal: AbortSignal | undefined,
  context: AttemptContext,
): Promise<AttemptResult> {
  const blocks = new Map<number, BlockState>();
  let usage: Usage = ZERO_USAGE;
  let stopReason: StopReason = 'stop';
  let started = false;
  let finished = false;

  const content = (completeOnly: boolean): (TextBlock | ToolCallBlock)[] =>
    [...blocks.entries()]
      .sort(([a], [b]) => a - b)
      .flatMap(([, block]): (TextBlock | ToolCallBlock)[] => {
        if (block.kind === 'text') return block.text ? [{ type: 'text', text: block.text }] : [];
        if (block.kind === 'tool' && (block.done || !completeOnly)) {
          return [{ type: 'toolCall', id: block.id, name: block.name, input: parseToolInput(block.json) }];
        }
        return [];
      });
  const fail = (failure: Failure): AttemptResult => ({
    ok: false,
    failure: { ...failure, midStream: started },
    partial: content(true),
    usage,
    emitted: context.emitted(),
  });

  try {
    const stream = await client.messages.create(body, signal ? { signal } : {});
    started = true;
    for await (const event of stream as AsyncIterable<RawEvent>) {
      switch (event.type) {
        case 'message_start': {
          const u = event.message.usage;
          usage = {
            inputTokens: u.input_tokens ?? 0,
            outputTokens: u.output_tokens ?? 0,
            cacheReadTokens: u.cache_read_input_tokens ?? 0,
            cacheWriteTokens: u.cache_creation_input_tokens ?? 0,
          };
          break;
        }
        case 'content_block_start': {
          const block = event.content_block;
          if (block.type === 'text') {
            blocks.set(event.index, { kind: 'text', text: block.text });
            if (block.text) context.emit({ type: 'text_delta', text: block.text });
          } else if (block.type === 'tool_use') {
            blocks.set(event.index, { kind: 'tool', id: block.id, name: block.name, json: '', done: false });
            context.emit({ type: 'toolcall_start', id: block.id, name: block.name });
          } else {
            blocks.set(event.index, { kind: 'other' });
          }
          break;
        }
        case 'content_block_delta': {
          const block = blocks.get(event.index);
          if (event.delta.type === 'text_delta' && block?.kind === 'text') {
            block.text += event.delta.text;
            context.emit({ type: 'text_delta', text: event.delta.text });
          } else if (event.delta.type === 'input_json_delta' && block?.kind === 'tool') {
            block.json += event.delta.partial_json;
          }
          break;
        }
        case 'content_block_stop': {
          const block = blocks.get(event.index);
          if (block?.kind === 'tool') block.done = true;
          break;
        }
        case 'message_delta': {
          const u = event.usage;
          usage = {
            inputTokens: u.input_tokens ?? usage.inputTokens,
            outputTokens: u.output_tokens ?? usage.outputTokens,
            cacheReadTokens: u.cache_read_input_tokens ?? usage.cacheReadTokens,
            cacheWriteTokens: u.cache_creation_input_tokens ?? usage.cacheWriteTokens,
          };
          if (event.delta.stop_reason) stopReason = STOP_REASONS[event.delta.stop_reason] ?? 'stop';
          break;
        }
        case 'message_stop':
          finished = true;
          break;
      }
    }
  } catch (error) {
    if (signal?.aborted || error instanceof APIUserAbortError) return fail({ code: 'aborted' });
    return fail(classify(error, apiKey));
  }
  // The SDK ends iteration quietly when the request is aborted mid-stream.
  if (signal?.aborted) return fail({ code: 'aborted' });
  if (!finished) return fail({ code: 'malformed_stream' });
  return {
    ok: true,
    message: {
      role: 'assistant',
      content: content(false),
      stopReason,
      usage,
      provider: 'anthropic',
      model,
      timestamp: Date.now(),
    },
  };
}

function classify(error: unknown, apiKey: string): Failure {
  if (error instanceof APIConnectionError) return { code: 'network' };
  if (error instanceof APIError) {
    const detail = cleanDetail(error.apiMessage, apiKey);
    if (error.status === undefined) {
      // An `event: error` inside the stream.
      return { code: classifyStreamError(error.type, error.apiMessage), detail };
    }
    return {
      code: classifyHttpError(error.status, error.type, error.apiMessage),
      status: error.status,
      retryAfterMs: parseRetryAfter(error.headers),
      detail,
    };
  }
  if (error instanceof SyntaxError) return { code: 'malformed_stream' };
  // Anything else thrown while reading the body is the transport failing (e.g. undici's "terminated").
  return { code: 'network' };
}
