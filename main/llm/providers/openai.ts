import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import {
  ZERO_USAGE,
  type AssistantMessage,
  type Message,
  type StopReason,
  type TextBlock,
  type ToolCallBlock,
  type Usage,
} from '../../common/messages.js';
import type { CallOptions, ModelRequest, Provider, ProviderId } from '../provider.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, type RetryPolicy } from '../retry.js';
import {
  classifyHttpError,
  classifyStreamError,
  cleanDetail,
  completeWithRetries,
  looksLikeContextOverflow,
  normaliseToolId,
  parseToolInput,
  prepareHistory,
  type AttemptContext,
  type AttemptResult,
  type Failure,
} from './shared.js';

/** The providers that speak OpenAI's API. */
type OpenAIProviderId = Exclude<ProviderId, 'anthropic'>;

type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;
type ChatChunk = OpenAI.Chat.Completions.ChatCompletionChunk;
type StreamingParams = OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming;

export interface OpenAIProviderOptions {
  readonly id: OpenAIProviderId;
  readonly baseURL?: string | undefined;
  readonly retry?: RetryPolicy | undefined;
}

/** OpenAI rejects tool-call ids longer than 40 characters. */
const TOOL_ID_MAX = 40;

/** Local servers (Ollama, LM Studio) ignore the key, but the SDK requires one. */
const PLACEHOLDER_KEY = 'not-needed';

/**
 * OpenAI Chat Completions over streaming SSE, for OpenAI itself and for compatible servers (Ollama, LM Studio,
 * OpenRouter). The SDK's own retries are off; the shared loop retries only before any output reached the caller.
 */
export class OpenAIProvider implements Provider {
  readonly id: OpenAIProviderId;
  readonly #baseURL: string | undefined;
  readonly #policy: RetryPolicy;

  constructor(options: OpenAIProviderOptions) {
    this.id = options.id;
    this.#baseURL = options.baseURL;
    this.#policy = options.retry ?? DEFAULT_RETRY_POLICY;
  }

  complete(request: ModelRequest, options: CallOptions): Promise<AssistantMessage> {
    const compatible = this.id === 'openai-compatible';
    const apiKey = options.apiKey || (compatible ? PLACEHOLDER_KEY : undefined);
    return completeWithRetries({
      providerId: this.id,
      label: compatible ? 'the model server' : 'OpenAI',
      model: request.model,
      policy: this.#policy,
      options,
      attempt: async (context) => {
        if (!apiKey) return { ok: false, failure: { code: 'missing_key' }, partial: [], usage: ZERO_USAGE, emitted: false };
        const client = new OpenAI({
          apiKey,
          ...(this.#baseURL ? { baseURL: this.#baseURL } : {}),
          maxRetries: 0,
          logLevel: 'off',
        });
        return streamOnce(client, buildRequest(request, compatible), this.id, request.model, apiKey, options.signal, context);
      },
    });
  }
}

/** The request body. `compatible` servers get the older `max_tokens`, which they understand more widely. */
export function buildRequest(request: ModelRequest, compatible: boolean): StreamingParams {
  const messages: ChatMessage[] = [];
  if (request.system) messages.push({ role: 'system', content: request.system });
  messages.push(...toOpenAIMessages(request.messages));
  const tools: OpenAI.Chat.Completions.ChatCompletionFunctionTool[] = request.tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
  }));
  return {
    model: request.model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    ...(compatible ? { max_tokens: request.maxOutputTokens } : { max_completion_tokens: request.maxOutputTokens }),
    ...(tools.length > 0 ? { tools } : {}),
  };
}

/** Provider-neutral history to chat messages; foreign tool-call ids are normalised the same way for calls and results. */
export function toOpenAIMessages(messages: readonly Message[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const message of prepareHistory(messages)) {
    switch (message.role) {
      case 'user':
        out.push({ role: 'user', content: message.content });
        break;
      case 'toolResult':
        out.push({
          role: 'tool',
          tool_call_id: normaliseToolId(message.toolCallId, TOOL_ID_MAX),
          // Chat Completions has no error flag on tool results, so the text carries it.
          content: message.isError ? `Error: ${message.content}` : message.content,
        });
        break;
      case 'assistant': {
        const text = message.content
          .filter((block): block is TextBlock => block.type === 'text')
          .map((block) => block.text)
          .join('');
        const calls = message.content.filter((block): block is ToolCallBlock => block.type === 'toolCall');
        out.push({
          role: 'assistant',
          content: text || null,
          ...(calls.length > 0
            ? {
                tool_calls: calls.map((call) => ({
                  id: normaliseToolId(call.id, TOOL_ID_MAX),
                  type: 'function' as const,
                  function: { name: call.name, arguments: JSON.stringify(call.input ?? {}) },
                })),
              }
            : {}),
        });
        break;
      }
    }
  }
  return out;
}

interface ToolState {
  id: string;
  name: string;
  args: string;
  announced: boolean;
}

async function streamOnce(
  client: OpenAI,
  body: StreamingParams,
  providerId: OpenAIProviderId,
  model: string,
  apiKey: string,
  signal: AbortSignal | undefined,
  context: AttemptContext,
): Promise<AttemptResult> {
  let text = '';
  const tools = new Map<number, ToolState>();
  let usage: Usage = ZERO_USAGE;
  let finishReason: string | null = null;
  let started = false;

  const announce = (tool: ToolState): void => {
    if (tool.announced || !tool.name) return;
    tool.announced = true;
    context.emit({ type: 'toolcall_start', id: tool.id, name: tool.name });
  };
  const content = (withTools: boolean): (TextBlock | ToolCallBlock)[] => [
    ...(text ? [{ type: 'text' as const, text }] : []),
    ...(withTools
      ? [...tools.entries()]
          .sort(([a], [b]) => a - b)
          .map(([, tool]): ToolCallBlock => ({ type: 'toolCall', id: tool.id, name: tool.name, input: parseToolInput(tool.args) }))
      : []),
  ];
  // A tool call's arguments are complete only once the choice finished.
  const fail = (failure: Failure): AttemptResult => ({
    ok: false,
    failure: { ...failure, midStream: started },
    partial: content(finishReason !== null),
    usage,
    emitted: context.emitted(),
  });

  try {
    const stream = await client.chat.completions.create(body, signal ? { signal } : {});
    started = true;
    for await (const chunk of stream as AsyncIterable<ChatChunk>) {
      if (chunk.usage) {
        const cached = chunk.usage.prompt_tokens_details?.cached_tokens ?? 0;
        usage = {
          inputTokens: Math.max(0, (chunk.usage.prompt_tokens ?? 0) - cached),
          outputTokens: chunk.usage.completion_tokens ?? 0,
          cacheReadTokens: cached,
          cacheWriteTokens: 0,
        };
      }
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const delta = choice.delta ?? {};
      const piece = (delta.content ?? '') + (delta.refusal ?? '');
      if (piece) {
        text += piece;
        context.emit({ type: 'text_delta', text: piece });
      }
      for (const call of delta.tool_calls ?? []) {
        let tool = tools.get(call.index);
        if (!tool) {
          tool = { id: call.id || `call_${call.index}_${Date.now().toString(36)}`, name: '', args: '', announced: false };
          tools.set(call.index, tool);
        } else if (call.id && !tool.announced) {
          tool.id = call.id;
        }
        if (call.function?.name && !tool.name) tool.name = call.function.name;
        if (call.function?.arguments) tool.args += call.function.arguments;
        announce(tool);
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
  } catch (error) {
    if (signal?.aborted || error instanceof APIUserAbortError) return fail({ code: 'aborted' });
    return fail(classify(error, apiKey));
  }
  // The SDK ends iteration quietly when the request is aborted mid-stream.
  if (signal?.aborted) return fail({ code: 'aborted' });
  if (finishReason === null) return fail({ code: 'malformed_stream' });
  for (const tool of tools.values()) announce(tool);
  return {
    ok: true,
    message: {
      role: 'assistant',
      content: content(true),
      stopReason: mapFinishReason(finishReason, tools.size > 0),
      usage,
      provider: providerId,
      model,
      timestamp: Date.now(),
    },
  };
}

function mapFinishReason(reason: string, hasToolCalls: boolean): StopReason {
  // Some compatible servers report "stop" even when the reply is tool calls.
  if (reason === 'tool_calls' || reason === 'function_call' || hasToolCalls) return 'toolUse';
  if (reason === 'length') return 'length';
  return 'stop';
}

function classify(error: unknown, apiKey: string): Failure {
  if (error instanceof APIConnectionError) return { code: 'network' };
  if (error instanceof APIError) {
    const body = error.error as { message?: unknown } | undefined;
    const apiMessage = typeof body?.message === 'string' ? body.message : null;
    const detail = cleanDetail(apiMessage, apiKey);
    const codeText = typeof error.code === 'string' ? error.code : null;
    if (codeText === 'context_length_exceeded' || (error.status === 400 && looksLikeContextOverflow(apiMessage))) {
      return { code: 'context_overflow', ...(error.status !== undefined ? { status: error.status } : {}), detail };
    }
    if (error.status === undefined) {
      // An error object inside the stream.
      return { code: classifyStreamError(codeText === 'insufficient_quota' ? codeText : (error.type ?? codeText), apiMessage), detail };
    }
    return {
      // An exhausted quota is a 429 like a rate limit; its type (and, in newer bodies, its code) say which.
      code: classifyHttpError(error.status, codeText === 'insufficient_quota' ? codeText : error.type, apiMessage),
      status: error.status,
      retryAfterMs: parseRetryAfter(error.headers),
      detail,
    };
  }
  if (error instanceof SyntaxError) return { code: 'malformed_stream' };
  // Anything else thrown while reading the body is the transport failing (e.g. undici's "terminated").
  return { code: 'network' };
}
