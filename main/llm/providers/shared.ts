import { createHash } from 'node:crypto';
import {
  ZERO_USAGE,
  type AssistantMessage,
  type Message,
  type ProviderError,
  type ProviderErrorCode,
  type TextBlock,
  type ToolCallBlock,
  type ToolResultMessage,
  type Usage,
} from '../../common/messages.js';
import type { CallOptions, ProviderEvent, ProviderId } from '../provider.js';
import { withRetries, type RetryOutcome, type RetryPolicy } from '../retry.js';

/** Shared by the wire-format providers: history repair, id normalisation, error classification and wording. */

export const INTERRUPTED_TOOL_RESULT = 'Tool call was interrupted.';

/** Where a tool call's arguments could not be parsed, the raw text is kept here so the model can be told. */
export const INVALID_JSON_KEY = '__invalid_json';

const RETRYABLE: ReadonlySet<ProviderErrorCode> = new Set(['rate_limit', 'overloaded', 'server', 'network']);

export interface Failure {
  readonly code: ProviderErrorCode;
  readonly status?: number | undefined;
  readonly retryAfterMs?: number | undefined;
  /** The server's own explanation, already redacted and shortened; shown only for bad requests. */
  readonly detail?: string | undefined;
  /** False for failures of a retryable code that retrying cannot fix (a transport failure Pavise itself caused). */
  readonly retryable?: boolean;
  /** The failure came after the reply had started streaming. */
  readonly midStream?: boolean;
}

type Block = TextBlock | ToolCallBlock;

export type AttemptResult =
  | { readonly ok: true; readonly message: AssistantMessage }
  | {
      readonly ok: false;
      readonly failure: Failure;
      /** Content completed before the failure, included in the error result. */
      readonly partial: readonly Block[];
      readonly usage: Usage;
      /** True once a text delta or tool-call start reached the caller; such attempts are never retried. */
      readonly emitted: boolean;
    };

export interface AttemptContext {
  readonly attemptNumber: number;
  readonly emit: (event: ProviderEvent) => void;
  /** Whether this attempt has emitted anything yet. */
  readonly emitted: () => boolean;
}

export interface CompleteParams {
  readonly providerId: ProviderId;
  /** How the provider is named in messages, e.g. "Anthropic". */
  readonly label: string;
  readonly model: string;
  readonly policy: RetryPolicy;
  readonly options: CallOptions;
  readonly attempt: (context: AttemptContext) => Promise<AttemptResult>;
}

/**
 * The part of `complete` both providers share: the retry loop, the error wording and the never-reject guard.
 * `attempt` should not throw; if it does, the call still resolves to an error message.
 */
export async function completeWithRetries(params: CompleteParams): Promise<AssistantMessage> {
  const { options } = params;
  const errorMessage = (failure: Failure, partial: readonly Block[], usage: Usage, outcome?: RetryOutcome<AttemptResult>): AssistantMessage => {
    const aborted = failure.code === 'aborted' || outcome?.gaveUp === 'aborted';
    const error: ProviderError = {
      code: aborted ? 'aborted' : failure.code,
      message: aborted
        ? `The request to ${params.label} was cancelled.`
        : describeFailure(params.label, failure, outcome, options.apiKey ? undefined : params.providerId, params.providerId),
      ...(failure.status !== undefined && !aborted ? { status: failure.status } : {}),
    };
    return {
      role: 'assistant',
      content: partial,
      stopReason: aborted ? 'aborted' : 'error',
      usage,
      provider: params.providerId,
      model: params.model,
      error,
      timestamp: Date.now(),
    };
  };
  try {
    if (options.signal?.aborted) return errorMessage({ code: 'aborted' }, [], ZERO_USAGE);
    const outcome = await withRetries<AttemptResult>({
      policy: params.policy,
      signal: options.signal,
      mayRetry: options.mayRetry,
      onEvent: (event) => safeEmit(options, event),
      attempt: async (attemptNumber) => {
        let emitted = false;
        const emit = (event: ProviderEvent): void => {
          if (event.type !== 'retry') emitted = true;
          safeEmit(options, event);
        };
        try {
          return await params.attempt({ attemptNumber, emit, emitted: () => emitted });
        } catch {
          return { ok: false, failure: { code: 'server' as const, retryable: false }, partial: [], usage: ZERO_USAGE, emitted };
        }
      },
      retryable: (result) => {
        if (result.ok || result.emitted || !RETRYABLE.has(result.failure.code) || result.failure.retryable === false) {
          return undefined;
        }
        return { reason: retryReason(result.failure), retryAfterMs: result.failure.retryAfterMs };
      },
    });
    const result = outcome.value;
    if (result.ok) return result.message;
    return errorMessage(result.failure, result.partial, result.usage, outcome);
  } catch {
    return errorMessage({ code: 'server', retryable: false }, [], ZERO_USAGE);
  }
}

function safeEmit(options: CallOptions, event: ProviderEvent): void {
  try {
    options.onEvent?.(event);
  } catch {
    // A listener's failure must not break the call (providers never throw).
  }
}

function retryReason(failure: Failure): string {
  const status = failure.status !== undefined ? ` (${failure.status})` : '';
  switch (failure.code) {
    case 'rate_limit':
      return `rate limited${status}`;
    case 'overloaded':
      return `overloaded${status}`;
    case 'server':
      return `server error${status}`;
    case 'network':
      return 'connection error';
    default:
      return `${failure.code}${status}`;
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * One human sentence for a failure; never includes a stack trace or a key. `keyless`: the provider whose request
 * went out without a key (an OpenAI-compatible server may need none), named in the command that stores one.
 * `provider`: the provider whose key was used, named in the command that replaces a refused one.
 */
export function describeFailure(label: string, failure: Failure, outcome?: RetryOutcome<unknown>, keyless?: ProviderId, provider?: ProviderId): string {
  const Label = capitalise(label);
  const status = failure.status !== undefined ? ` (${failure.status})` : '';
  const ranOut =
    outcome?.gaveUp === 'exhausted' && outcome.attempts > 1 ? ` and retries ran out after ${outcome.attempts} attempts` : '';
  if (outcome?.gaveUp === 'wait_too_long' && outcome.requestedWaitMs !== undefined) {
    const seconds = Math.ceil(outcome.requestedWaitMs / 1_000);
    return `${Label} asked to wait ${seconds} seconds before retrying${status}; try again later.`;
  }
  const midReply = failure.status === undefined;
  const code: ProviderErrorCode = failure.code;
  switch (code) {
    case 'auth':
      if (keyless !== undefined && failure.status !== 403) {
        return `${Label} wants an API key${status} and none is stored; store one with \`pavise secrets set ${keyless}\` (it reads the key from stdin).`;
      }
      return failure.status === 403
        ? `${Label} refused the request (403); the API key may not have access to this model.`
        : `${Label} rejected the API key${status}; ${provider ? `store a valid one with \`pavise secrets set ${provider}\` (it reads the key from stdin)` : 'check that the stored key is correct'}.`;
    case 'quota':
      return outOfCredit(Label, status, provider ?? keyless);
    case 'rate_limit':
      return `${Label} rate-limited the request${status}${ranOut}; try again in a minute.`;
    case 'overloaded':
      return midReply && !ranOut
        ? `${Label} became overloaded mid-reply; try again shortly.`
        : `${Label} is overloaded${status}${ranOut}; try again shortly.`;
    case 'server':
      return midReply && !ranOut
        ? `${Label} failed unexpectedly while replying; try again.`
        : `${Label} had a server error${status}${ranOut}; try again shortly.`;
    case 'network':
      return failure.midStream && !ranOut
        ? `The connection to ${label} dropped mid-reply; try again.`
        : `Could not reach ${label}${ranOut}; check the network connection.`;
    case 'context_overflow':
      return `The conversation is too long for the model's context window; start a new session or shorten it.`;
    case 'bad_request':
      return `${Label} rejected the request${status}${failure.detail ? `: ${failure.detail.replace(/[.\s]+$/, '')}` : ''}.`;
    case 'malformed_stream':
      return `${Label}'s reply stream was cut off or unreadable; try again.`;
    case 'missing_key':
      return `No API key is set for ${label}; store one before trying again.`;
    case 'aborted':
      return `The request to ${label} was cancelled.`;
    case 'limit':
      return `The request to ${label} was not sent because a limit was reached.`;
    case 'paused':
      return `The request to ${label} was not sent because the assistant is paused.`;
    default:
      return `The request to ${label} failed (${code}).`;
  }
}

/** What the owner must do when the account ran out of credit, where that is done for each provider. */
function outOfCredit(Label: string, status: string, provider: ProviderId | undefined): string {
  switch (provider) {
    case 'anthropic':
      return `${Label} reports that the credit balance of the account is too low${status}; add credit under Plans & Billing in the Anthropic Console.`;
    case 'openai':
      return `${Label} reports that the account is out of quota${status}; add credit or raise the limit under Billing on the OpenAI platform.`;
    default:
      return `${Label} reports that the account is out of credit or quota${status}; check the billing of that account.`;
  }
}

/**
 * An exhausted balance as the providers word it: Anthropic answers 400 invalid_request_error "Your credit balance is
 * too low…" (newer API versions: 402 billing_error), OpenAI 429 with type and code `insufficient_quota`.
 */
const OUT_OF_CREDIT = /credit balance is too low|insufficient[ _]quota|exceeded your current quota/i;

export function looksLikeOutOfCredit(type: string | null | undefined, text: string | null | undefined): boolean {
  return type === 'billing_error' || type === 'insufficient_quota' || (!!text && OUT_OF_CREDIT.test(text));
}

const CONTEXT_OVERFLOW =
  /prompt is too long|context[ _-]?(length|window)|maximum context|too many (input )?tokens|exceeds? the (model's )?(maximum|max)|input (is )?too long|reduce the length/i;

export function looksLikeContextOverflow(text: string | null | undefined): boolean {
  return !!text && CONTEXT_OVERFLOW.test(text);
}

/** Maps an HTTP error to a code; `type` is the body's error type, `text` its message. */
export function classifyHttpError(status: number, type: string | null | undefined, text: string | null | undefined): ProviderErrorCode {
  if (type === 'overloaded_error' || status === 529) return 'overloaded';
  // Before 429 and 400: a rate limit passes with time, a bad request is Pavise's; an empty balance is neither.
  if (status === 402 || looksLikeOutOfCredit(type, text)) return 'quota';
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limit';
  if (status === 413) return 'context_overflow';
  if (status >= 500) return 'server';
  if (looksLikeContextOverflow(text)) return 'context_overflow';
  if (status === 408) return 'network';
  return 'bad_request';
}

/** Maps an error reported inside a stream (no HTTP status) by its error type. */
export function classifyStreamError(type: string | null | undefined, text: string | null | undefined): ProviderErrorCode {
  if (type === 'overloaded_error') return 'overloaded';
  if (type === 'rate_limit_error' || type === 'rate_limit_exceeded') return 'rate_limit';
  if (looksLikeOutOfCredit(type, text)) return 'quota';
  if (type === 'api_error' || type === 'server_error') return 'server';
  if (looksLikeContextOverflow(text)) return 'context_overflow';
  return 'malformed_stream';
}

/** One line, no longer than 200 characters, with anything shaped like a key removed. */
export function cleanDetail(text: string | null | undefined, apiKey: string | undefined): string | undefined {
  if (!text) return undefined;
  let clean = text.replace(/\s+/g, ' ').trim();
  if (apiKey && apiKey.length >= 4) clean = clean.split(apiKey).join('[redacted]');
  clean = clean.replace(/\b(sk|sess|rk|pk)-[A-Za-z0-9_*.-]{6,}/g, '[redacted]');
  if (clean.length > 200) clean = `${clean.slice(0, 197)}...`;
  return clean || undefined;
}

/**
 * Tool-call ids as a provider accepts them (`^[a-zA-Z0-9_-]{1,max}$`). Valid ids pass through; others are
 * sanitised and suffixed with a hash of the original, so the mapping is the same for a call and its result and
 * two foreign ids do not collide.
 */
export function normaliseToolId(id: string, maxLength: number): string {
  if (id.length > 0 && id.length <= maxLength && /^[a-zA-Z0-9_-]+$/.test(id)) return id;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 12);
  const stem = id.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, Math.max(0, maxLength - hash.length - 1));
  return stem ? `${stem}_${hash}` : hash;
}

/** Parses streamed tool arguments: empty means no arguments; unparseable text is kept for the model to see. */
export function parseToolInput(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return { [INVALID_JSON_KEY]: raw };
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Makes a stored history valid for any provider: drops failed assistant messages that produced nothing and empty
 * text blocks, gives every tool call a result right after its assistant message (a synthetic error result for
 * calls an aborted turn never answered), and drops tool results that answer no call.
 */
export function prepareHistory(messages: readonly Message[]): Message[] {
  const out: Message[] = [];
  let index = 0;
  while (index < messages.length) {
    const message = messages[index++]!;
    if (message.role === 'toolResult') continue;
    if (message.role === 'user') {
      out.push(message);
      continue;
    }
    const content = message.content.filter((block) => block.type !== 'text' || block.text.length > 0);
    if (content.length === 0) continue;
    out.push(content.length === message.content.length ? message : { ...message, content });
    const calls = content.filter((block): block is ToolCallBlock => block.type === 'toolCall');
    if (calls.length === 0) continue;
    const results = new Map<string, ToolResultMessage>();
    while (index < messages.length && messages[index]!.role === 'toolResult') {
      const result = messages[index++] as ToolResultMessage;
      if (!results.has(result.toolCallId)) results.set(result.toolCallId, result);
    }
    for (const call of calls) {
      out.push(
        results.get(call.id) ?? {
          role: 'toolResult',
          toolCallId: call.id,
          toolName: call.name,
          content: INTERRUPTED_TOOL_RESULT,
          isError: true,
          provenance: { kind: 'untrusted', source: 'tool_output' },
          timestamp: message.timestamp,
        },
      );
    }
  }
  return out;
}
