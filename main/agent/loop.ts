import {
  addUsage,
  toolCallsOf,
  textOf,
  ZERO_USAGE,
  type AssistantMessage,
  type Message,
  type Provenance,
  type ProviderError,
  type StopReason,
  type ToolCallBlock,
  type ToolResultMessage,
  type Usage,
  type UserMessage,
} from '../common/messages.js';
import type { ModelRequest, Provider, ProviderId } from '../llm/provider.js';
import type { RegisteredTool, ToolRegistry, ToolResult } from '../tools/tool.js';
import type { AgentEvent } from './events.js';

export type ToolDecision =
  | { readonly action: 'allow'; readonly ownerDirected?: boolean }
  | { readonly action: 'deny'; readonly reason: string };

export interface ToolCallRequest {
  readonly sessionId: string;
  readonly call: ToolCallBlock;
  readonly tool: RegisteredTool;
  /** Arguments after schema validation. */
  readonly input: unknown;
  /** The whole context so far, so a gate can see where the arguments came from. */
  readonly context: readonly Message[];
  readonly signal: AbortSignal;
}

/**
 * The loop is connected to the app through these hooks, never through imports of memory, permissions or channels.
 */
export interface AgentHooks {
  /** Resolves the provider key at the moment a request leaves. Throw a MissingKeyError to stop the turn. */
  getApiKey(provider: ProviderId): Promise<string | undefined> | string | undefined;
  /** The permission gate. Without it every call is allowed (used only by tests of the loop itself). */
  beforeToolCall?(request: ToolCallRequest): Promise<ToolDecision> | ToolDecision;
  /** Checked before every model call (pause switch, spend cap); a deny ends the turn with that reason. */
  beforeModelCall?(request: ModelRequest, signal: AbortSignal): Promise<ModelCallDecision> | ModelCallDecision;
  /**
   * Called once for every call `beforeModelCall` allowed, after its answer (and the usage it reports) was recorded,
   * whatever the outcome: the spend cap's hold on the call's worst case ends here.
   */
  afterModelCall?(request: ModelRequest, answer: AssistantMessage): void;
  /** Sees every tool result before the model does (secret redaction, provenance labelling). */
  afterToolCall?(result: ToolResultMessage, request: ToolCallRequest | undefined): Promise<ToolResultMessage> | ToolResultMessage;
  /** Rewrites the context before each model call (pruning, labelling); must not mutate its argument. */
  transformContext?(messages: readonly Message[], signal: AbortSignal): Promise<readonly Message[]> | readonly Message[];
  onEvent?(event: AgentEvent): void;
  /**
   * Watches the pause switch while one model call or tool call runs: its signal aborts when the owner pauses Pavise,
   * which stops the call (a model request is aborted mid-stream, a tool is signalled); the turn then ends with a
   * 'paused' error, no further tool or model call, and no reply. `stop` ends the watch.
   */
  watchPause?(): { readonly signal: AbortSignal; stop(): void };
}

export type ModelCallDecision = { readonly action: 'allow' } | { readonly action: 'deny'; readonly code: 'limit' | 'paused'; readonly reason: string };

export class MissingKeyError extends Error {
  override readonly name = 'MissingKeyError';
}

/** The result of a tool call the pause stopped, and the turn's last word. */
export const STOPPED_BY_PAUSE = 'Stopped: Pavise was paused while this ran, and its result was not used. Run `pavise resume` and ask again.';
const PAUSED_TURN = 'Pavise was paused while a tool ran; the tool was stopped and nothing more was done. Run `pavise resume` and ask again.';
const NOT_RUN_PAUSED = 'Not run: Pavise was paused.';
/** The turn's last word when the pause cut off the model's answer: what it had written is not the reply. */
export const PAUSED_MID_ANSWER =
  'Pavise was paused while the model was answering; its answer was cut off, is not sent, and nothing it asked for then was done. ' +
  'Anything done earlier in this request stands (`pavise activity` lists it). Run `pavise resume`, then ask for what is left.';
// Not "nothing was done": earlier steps of the same request may have sent or changed something, and asking for all of
// it again would do that twice.
const PAUSED_BEFORE_ANSWER =
  'Pavise was paused while the model was being asked; nothing more was done. Anything done earlier in this request stands ' +
  '(`pavise activity` lists it). Run `pavise resume`, then ask for what is left.';
/**
 * How long a tool call the pause stopped may take to wind down (its process group killed, its request cancelled)
 * before the turn stops waiting for it: a tool that ignores its signal must not keep a paused turn running.
 */
export const PAUSE_GRACE_MS = 2_000;

/**
 * Tool calls run from one model answer; the rest of that answer's calls are answered "not run". With the step limit
 * this bounds what one turn can do (12 steps by default: at most 240 tool calls).
 */
export const MAX_TOOL_CALLS_PER_STEP = 20;

export interface TurnLimits {
  /** Model calls per turn. */
  readonly maxSteps: number;
  /** Input (cached or not) plus output tokens over all model calls of the turn. */
  readonly maxTokens: number;
}

export interface TurnOptions {
  readonly sessionId: string;
  readonly provider: Provider;
  readonly model: string;
  readonly system: string;
  readonly tools: ToolRegistry;
  readonly history: readonly Message[];
  readonly input: UserMessage;
  readonly limits: TurnLimits;
  readonly maxOutputTokens: number;
  readonly hooks: AgentHooks;
  readonly signal?: AbortSignal;
}

export interface TurnResult {
  /** The messages this turn added, the user's input first. */
  readonly messages: readonly Message[];
  /** The model's words to the asker; empty when the pause stopped the turn (the 'paused' error says so instead). */
  readonly reply: string;
  readonly stopReason: StopReason;
  readonly error?: ProviderError;
  readonly usage: Usage;
}

/**
 * Runs one turn: the user's input, then model calls and tool executions until the model stops, a limit is hit,
 * the signal aborts or a call fails. Never throws: every failure is in the result and in the last message.
 */
export async function runTurn(options: TurnOptions): Promise<TurnResult> {
  const { hooks, provider, tools } = options;
  const signal = options.signal ?? new AbortController().signal;
  const emit = (event: AgentEvent): void => {
    try {
      hooks.onEvent?.(event);
    } catch {
      // A failing subscriber must not break the turn; persistence failures surface through their own channel.
    }
  };

  const context: Message[] = [...options.history];
  const added: Message[] = [];
  const push = (message: Message): void => {
    context.push(message);
    added.push(message);
    emit({ type: 'message', message });
  };

  let usage: Usage = ZERO_USAGE;
  let reply = '';
  const finish = (stopReason: StopReason, error?: ProviderError): TurnResult => {
    emit(error ? { type: 'turn_end', stopReason, error } : { type: 'turn_end', stopReason });
    // A turn the pause stopped has no reply: what the model wrote before (half an answer, or the words before tool
    // calls that were stopped) must not go out as if it were the answer. The error, the pause notice, is its last word.
    const final = error?.code === 'paused' ? '' : reply;
    return error ? { messages: added, reply: final, stopReason, error, usage } : { messages: added, reply: final, stopReason, usage };
  };
  const fail = (code: ProviderError['code'], message: string, stopReason: StopReason = 'error'): TurnResult => {
    const error: ProviderError = { code, message };
    push(errorMessage(provider.id, options.model, error, stopReason));
    return finish(stopReason, error);
  };

  emit({ type: 'turn_start', sessionId: options.sessionId });
  push(options.input);

  for (let step = 1; ; step++) {
    if (signal.aborted) return fail('aborted', 'The turn was stopped.', 'aborted');
    if (step > options.limits.maxSteps) {
      return fail('limit', `Stopped after ${options.limits.maxSteps} model calls in one turn (limits.maxStepsPerTurn); ask again to continue.`);
    }
    // Cached input is input: providers report it apart from input_tokens, and it must not slip past the limit.
    const spent = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens + usage.outputTokens;
    if (spent >= options.limits.maxTokens) {
      return fail('limit', `Stopped after ${spent} tokens in one turn (limits.maxTokensPerTurn); ask again to continue.`);
    }

    let apiKey: string | undefined;
    try {
      apiKey = await hooks.getApiKey(provider.id);
    } catch (error) {
      return fail('missing_key', error instanceof Error ? error.message : String(error));
    }

    let requestMessages: readonly Message[] = context;
    if (hooks.transformContext) {
      try {
        requestMessages = await hooks.transformContext(context, signal);
      } catch (error) {
        return fail('bad_request', `Preparing the context failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }

    const request: ModelRequest = {
      model: options.model,
      system: options.system,
      messages: requestMessages,
      tools: tools.specs(),
      maxOutputTokens: options.maxOutputTokens,
    };
    if (hooks.beforeModelCall) {
      let decision: ModelCallDecision;
      try {
        decision = await hooks.beforeModelCall(request, signal);
      } catch (error) {
        decision = { action: 'deny', code: 'limit', reason: `The model call was not allowed (${error instanceof Error ? error.message : String(error)}).` };
      }
      if (decision.action === 'deny') return fail(decision.code, decision.reason);
    }

    let assistant: AssistantMessage | undefined;
    /** Set when a retry was not allowed to leave (paused meanwhile, or the cap): the turn ends with that reason. */
    let refusedRetry: Extract<ModelCallDecision, { action: 'deny' }> | undefined;
    const beforeModelCall = hooks.beforeModelCall;
    // The pause stops a model call already under way, not only the next one: the request is aborted (the provider
    // closes the connection, so the model stops writing and nothing more is billed) and the answer is cut off there.
    const pause = hooks.watchPause?.();
    const callSignal = pause ? AbortSignal.any([signal, pause.signal]) : signal;
    try {
      assistant = await provider.complete(
        request,
        {
          apiKey,
          signal: callSignal,
          onEvent: (event) => {
            if (event.type === 'text_delta') emit({ type: 'text_delta', text: event.text });
            else if (event.type === 'retry') emit(event);
          },
          // A retry is a new request: the pause switch flipped during the backoff stops it like any other call.
          ...(beforeModelCall
            ? {
                mayRetry: async () => {
                  const decision = await Promise.resolve(beforeModelCall(request, signal)).catch(
                    (error: unknown): ModelCallDecision => ({ action: 'deny', code: 'limit', reason: `The model call was not allowed (${error instanceof Error ? error.message : String(error)}).` }),
                  );
                  if (decision.action === 'deny') refusedRetry = decision;
                  return decision.action === 'allow';
                },
              }
            : {}),
        },
      );
      if (refusedRetry && assistant.stopReason === 'error') {
        assistant = { ...assistant, error: { code: refusedRetry.code, message: refusedRetry.reason } };
      }
      // Cut off by the pause (or paused as it ended, with tool calls still to run): the answer is kept as far as it
      // came, with what it cost, but marked as stopped by the pause, and nothing it asked for runs.
      if (pause?.signal.aborted && !signal.aborted && (assistant.stopReason === 'error' || assistant.stopReason === 'aborted' || toolCallsOf(assistant).length > 0)) {
        assistant = { ...assistant, stopReason: 'error', error: { code: 'paused', message: textOf(assistant) ? PAUSED_MID_ANSWER : PAUSED_BEFORE_ANSWER } };
      }
      usage = addUsage(usage, assistant.usage);
      emit({ type: 'usage', step: assistant.usage, turn: usage });
      push(assistant);
    } finally {
      pause?.stop();
      // After push: the answer's usage is in the ledger before the hold on its worst case is let go.
      try {
        hooks.afterModelCall?.(request, assistant ?? errorMessage(provider.id, options.model, { code: 'server', message: 'The model call failed.' }, 'error'));
      } catch {
        // Releasing a hold must not break the turn.
      }
    }
    const text = textOf(assistant);
    if (text) reply = reply ? `${reply}\n\n${text}` : text;

    if (assistant.error?.code === 'paused') {
      closeDanglingCalls(assistant, push, NOT_RUN_PAUSED);
      return finish('error', assistant.error);
    }
    if (assistant.stopReason === 'error' || assistant.stopReason === 'aborted') {
      closeDanglingCalls(assistant, push, 'The turn ended before this tool ran.');
      return finish(assistant.stopReason, assistant.error ?? { code: 'server', message: 'The model call failed.' });
    }

    const calls = toolCallsOf(assistant);
    if (calls.length === 0) return finish(assistant.stopReason);

    for (const [index, call] of calls.entries()) {
      if (signal.aborted) {
        closeDanglingCalls({ ...assistant, content: calls.slice(index) }, push, 'The turn was stopped before this tool ran.');
        return finish('aborted', { code: 'aborted', message: 'The turn was stopped.' });
      }
      if (index >= MAX_TOOL_CALLS_PER_STEP) {
        // The step limit bounds model calls; without this, one answer of a thousand tool calls ran a thousand effects.
        closeDanglingCalls(
          { ...assistant, content: calls.slice(index) },
          push,
          `Not run: one answer may make at most ${MAX_TOOL_CALLS_PER_STEP} tool calls; this answer made ${calls.length}.`,
        );
        break;
      }
      const done = await runToolCall(call, options, context, signal, emit);
      push(done.message);
      if (done.paused) {
        closeDanglingCalls({ ...assistant, content: calls.slice(index + 1) }, push, NOT_RUN_PAUSED);
        return fail('paused', PAUSED_TURN);
      }
    }
  }
}

/** Runs one tool call; `paused` when the pause switch stopped it (its result is then STOPPED_BY_PAUSE). */
async function runToolCall(
  call: ToolCallBlock,
  options: TurnOptions,
  context: readonly Message[],
  signal: AbortSignal,
  emit: (event: AgentEvent) => void,
): Promise<{ readonly message: ToolResultMessage; readonly paused: boolean }> {
  let paused = false;
  const message = await callTool(call, options, context, signal, emit, () => (paused = true));
  return { message, paused };
}

async function callTool(
  call: ToolCallBlock,
  options: TurnOptions,
  context: readonly Message[],
  signal: AbortSignal,
  emit: (event: AgentEvent) => void,
  onPaused: () => void,
): Promise<ToolResultMessage> {
  const trigger = options.input.provenance;
  let request: ToolCallRequest | undefined;
  const result = async (output: ToolResult): Promise<ToolResultMessage> => {
    let message: ToolResultMessage = {
      role: 'toolResult',
      toolCallId: call.id,
      toolName: call.name,
      content: output.content,
      isError: output.isError === true,
      provenance: output.provenance ?? trigger,
      timestamp: Date.now(),
    };
    if (options.hooks.afterToolCall) {
      try {
        message = await options.hooks.afterToolCall(message, request);
      } catch (error) {
        message = { ...message, content: `The tool result was withheld (${error instanceof Error ? error.message : String(error)}).`, isError: true };
      }
    }
    emit({ type: 'tool_end', id: call.id, name: call.name, isError: message.isError, content: message.content });
    return message;
  };

  emit({ type: 'tool_start', id: call.id, name: call.name, input: call.input });
  const tool = options.tools.get(call.name);
  if (!tool) {
    const names = options.tools.list().map((known) => known.name).join(', ') || 'none';
    return result({ content: `Unknown tool "${call.name}". Available tools: ${names}.`, isError: true });
  }

  const parsed = options.tools.validate(tool, call.input);
  if (!parsed.success) return result({ content: `Invalid arguments for ${tool.name}: ${parsed.problems}.`, isError: true });

  // What the gate approves is exactly what runs: one deep-frozen copy goes to both.
  const input = deepFreeze(structuredClone(parsed.data));
  request = { sessionId: options.sessionId, call, tool, input, context, signal };
  let ownerDirected = false;
  if (options.hooks.beforeToolCall) {
    let decision: ToolDecision;
    try {
      decision = await options.hooks.beforeToolCall(request);
    } catch (error) {
      decision = { action: 'deny', reason: `the permission check failed (${error instanceof Error ? error.message : String(error)})` };
    }
    if (decision.action === 'deny') return result({ content: `Not run: ${decision.reason}`, isError: true });
    ownerDirected = decision.ownerDirected === true;
  }

  const pause = options.hooks.watchPause?.();
  // Paused between the gate's check and here: the call is not started at all.
  if (pause?.signal.aborted) {
    pause.stop();
    onPaused();
    return result({ content: NOT_RUN_PAUSED, isError: true });
  }
  const toolSignal = pause ? AbortSignal.any([signal, pause.signal]) : signal;
  let output: ToolResult | typeof ABANDONED;
  try {
    const running = options.tools.call(tool, input, { sessionId: options.sessionId, callId: call.id, signal: toolSignal, ...(ownerDirected ? { ownerDirected } : {}) });
    output = pause ? await settledOrAbandoned(running, pause.signal, PAUSE_GRACE_MS) : await running;
  } catch (error) {
    output = { content: `${tool.name} failed: ${error instanceof Error ? error.message : String(error)}`, isError: true };
  } finally {
    pause?.stop();
  }
  // Whatever the call answered once the pause stopped it (an error, partial output, even a result) is not used.
  if (output === ABANDONED || pause?.signal.aborted) {
    onPaused();
    return result({ content: STOPPED_BY_PAUSE, isError: true });
  }
  return result(output);
}

const ABANDONED: unique symbol = Symbol('abandoned');

/** The call's outcome, or ABANDONED when it has not settled `graceMs` after `stop` aborted (it goes on unobserved). */
function settledOrAbandoned<T>(work: Promise<T>, stop: AbortSignal, graceMs: number): Promise<T | typeof ABANDONED> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onStop = (): void => {
      timer = setTimeout(() => resolve(ABANDONED), graceMs);
    };
    if (stop.aborted) onStop();
    else stop.addEventListener('abort', onStop, { once: true });
    void work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    });
  });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Keeps the history valid for every provider: each tool call gets a result, even when it never ran. */
function closeDanglingCalls(
  assistant: Pick<AssistantMessage, 'content'>,
  push: (message: Message) => void,
  reason: string,
): void {
  for (const block of assistant.content) {
    if (block.type !== 'toolCall') continue;
    push({
      role: 'toolResult',
      toolCallId: block.id,
      toolName: block.name,
      content: reason,
      isError: true,
      provenance: { kind: 'owner' } satisfies Provenance,
      timestamp: Date.now(),
    });
  }
}

function errorMessage(provider: string, model: string, error: ProviderError, stopReason: StopReason): AssistantMessage {
  return { role: 'assistant', content: [], stopReason, usage: ZERO_USAGE, provider, model, error, timestamp: Date.now() };
}
