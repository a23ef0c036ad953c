import { runTurn, type AgentHooks, type TurnResult } from '../agent/loop.js';
import type { AgentEvent } from '../agent/events.js';
import { weakest } from '../common/labels.js';
import { ZERO_USAGE, type Message, type Provenance, type Usage, type UserMessage } from '../common/messages.js';
import type { Provider } from '../llm/provider.js';
import type { PreparedContext } from '../memory/context.js';
import type { Memory } from '../memory/memory.js';
import type { PermissionGate } from '../permissions/gate.js';
import type { PauseWatch } from '../permissions/pause.js';
import type { SecretBroker } from '../permissions/secret-broker.js';
import type { MemoriesStore } from '../storage/memories-store.js';
import type { SessionStore } from '../storage/session-store.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { ApiKeyLookup } from './api-keys.js';

export type { TurnResult } from '../agent/loop.js';

export interface TurnRunnerDeps {
  /** Resolved on the first turn, so a command that runs no turn never loads a provider's SDK. */
  readonly provider: () => Provider;
  readonly model: { readonly name: string; readonly maxOutputTokens: number };
  readonly apiKey: ApiKeyLookup;
  readonly sessions: Pick<SessionStore, 'messages' | 'append'>;
  readonly gate: Pick<PermissionGate, 'check' | 'afterToolCall' | 'beforeModelCall' | 'afterModelCall' | 'transformContext'>;
  readonly broker: Pick<SecretBroker, 'redact' | 'redactValue'>;
  /** The persona and rules, read at the start of every turn (SOUL.md may have changed). */
  readonly systemPrompt: () => string;
  readonly limits: { readonly maxSteps: number; readonly maxTokens: number };
  /**
   * Context under a budget: the memory preamble, the running summary and the newest turns that fit. Without it a
   * turn sends the whole stored history.
   */
  readonly memory?: Pick<Memory, 'prepare'>;
  /**
   * Stops a running model or tool call when Pavise is paused (here or by another process); without it a call runs to
   * its end.
   */
  readonly pause?: Pick<PauseWatch, 'watch'>;
  /**
   * Where the cost of a call that is not stored goes (`onlyIfAnswered` dropped it), so the spend cap still counts it:
   * a request cut off before any words (paused, the connection dropped) may have been billed for its input.
   */
  readonly ledger?: Pick<MemoriesStore, 'recordUsage'>;
}

export interface TurnRequest {
  /** The stored session the turn continues (its id in the session repository). */
  readonly sessionKey: string;
  readonly text: string;
  /** Who the text is from; the local CLI and popover are the owner, a channel says who wrote. */
  readonly trigger: Provenance;
  /** The tools this turn may use (contacts and groups get only tools without effects). */
  readonly toolset: ToolRegistry;
  /** Where the reply goes when someone other than the caller delivers it; handed back in the result. */
  readonly replyTo?: { readonly channel: string; readonly conversationId: string };
  readonly signal: AbortSignal;
  readonly onEvent?: (event: AgentEvent) => void;
  /** A cap on each model answer of this turn, below the configured one (a scheduled briefing's token budget). */
  readonly maxOutputTokens?: number;
  /**
   * Store nothing of the turn when its first model call produced nothing (the model could not be reached, refused the
   * key, or the call was not allowed to leave): the caller keeps the text and runs it again later, and the history
   * must then hold it once, not once per attempt.
   */
  readonly onlyIfAnswered?: boolean;
}

export interface TurnOutcome extends TurnResult {
  readonly replyTo?: TurnRequest['replyTo'];
  /** Set when `onlyIfAnswered` left the turn unstored: its first model call produced nothing (see `error`). */
  readonly unanswered?: true;
}

/**
 * The one way a turn starts, whoever asks (a channel through the gateway, the popover, the CLI, a scheduled job):
 * the stored history, the gate's hooks, the spend and step limits, and every message stored scrubbed of secrets.
 */
export class TurnRunner {
  constructor(private readonly deps: TurnRunnerDeps) {}

  async run(request: TurnRequest): Promise<TurnOutcome> {
    const { deps } = this;
    const sessionId = request.sessionKey;
    const input: UserMessage = { role: 'user', content: request.text, provenance: request.trigger, timestamp: Date.now() };
    const system = deps.systemPrompt();
    const stored = deps.sessions.messages(sessionId);
    let prepared: PreparedContext | undefined;
    try {
      prepared = await deps.memory?.prepare({ sessionId, stored, input, fixedText: system + JSON.stringify(request.toolset.specs()), signal: request.signal });
    } catch {
      // Memory is an aid: if it cannot be read, the turn goes on with the stored history, as before memory existed.
      prepared = undefined;
    }
    const pause = deps.pause;
    const store = (message: Message): void => {
      deps.sessions.append(sessionId, deps.broker.redactValue(labelled(message, prepared?.preambleLabel)));
    };
    // With onlyIfAnswered the input waits for the first answer: stored with it, or dropped with a failure to answer.
    let held: Message[] | undefined = request.onlyIfAnswered ? [] : undefined;
    let unanswered = false;
    const recordDropped = (message: Message): void => {
      if (message.role !== 'assistant' || sameUsage(message.usage, ZERO_USAGE)) return;
      try {
        deps.ledger?.recordUsage({ sessionId, purpose: 'unanswered-turn', provider: message.provider, model: message.model, usage: message.usage });
      } catch {
        // The ledger failing must not break the turn; the call is then uncounted, as before it was recorded here.
      }
    };
    const hooks: AgentHooks = {
      getApiKey: (provider) => deps.apiKey(provider),
      beforeToolCall: (call) => deps.gate.check(call),
      afterToolCall: (result, call) => deps.gate.afterToolCall(result, call),
      beforeModelCall: (modelRequest) => deps.gate.beforeModelCall(modelRequest),
      afterModelCall: (modelRequest) => deps.gate.afterModelCall(modelRequest),
      transformContext: (messages) => deps.gate.transformContext(prepared ? prepared.fit(messages) : messages),
      ...(pause ? { watchPause: () => pause.watch() } : {}),
      onEvent: (event) => {
        // What is stored is scrubbed too: a secret the model decoded must not live on in the history. A reply written
        // after the preamble showed someone else's memory is stored with that label: the preamble is not stored, and
        // what the model repeated from it must not come back later as the owner's.
        if (event.type === 'message') {
          if (held === undefined) store(event.message);
          else if (held.length === 0) held.push(event.message);
          else if (producedNothing(event.message)) {
            unanswered = true;
            recordDropped(event.message);
          } else {
            for (const message of [...held, event.message]) store(message);
            held = undefined;
          }
        }
        request.onEvent?.(event);
      },
    };
    await request.toolset.ready();
    const result = await runTurn({
      sessionId,
      provider: deps.provider(),
      model: deps.model.name,
      system,
      tools: request.toolset,
      history: prepared?.history ?? stored,
      input,
      limits: deps.limits,
      maxOutputTokens: Math.max(1, Math.min(deps.model.maxOutputTokens, Math.floor(request.maxOutputTokens ?? Infinity))),
      hooks,
      signal: request.signal,
    });
    return {
      ...result,
      reply: deps.broker.redact(result.reply),
      ...(request.replyTo ? { replyTo: request.replyTo } : {}),
      ...(unanswered ? { unanswered: true as const } : {}),
    };
  }
}

/** A model call that failed (or never left) before the model said anything. */
function producedNothing(message: Message): boolean {
  return message.role === 'assistant' && message.content.length === 0 && (message.stopReason === 'error' || message.stopReason === 'aborted');
}

/** An assistant message labelled with what the preamble showed, when that was less trusted than the owner. */
function labelled(message: Message, shown: Provenance | undefined): Message {
  if (message.role !== 'assistant' || shown === undefined || shown.kind === 'owner') return message;
  return { ...message, provenance: weakest([message.provenance, shown]) };
}

function sameUsage(a: Usage, b: Usage): boolean {
  return a.inputTokens === b.inputTokens && a.outputTokens === b.outputTokens && a.cacheReadTokens === b.cacheReadTokens && a.cacheWriteTokens === b.cacheWriteTokens;
}
