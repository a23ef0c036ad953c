/**
 * Provider-neutral conversation model. Every message that enters the model's context carries provenance
 * (invariant 4); providers translate these to and from their wire formats.
 */

export type Provenance =
  | { readonly kind: 'owner' }
  | { readonly kind: 'contact'; readonly contactId: string }
  | { readonly kind: 'untrusted'; readonly source: UntrustedSource; readonly detail?: string };

export type UntrustedSource =
  | 'non_owner_sender'
  | 'web'
  | 'email'
  | 'calendar_invite'
  | 'file'
  | 'tool_output';

export const OWNER: Provenance = Object.freeze({ kind: 'owner' });

export interface TextBlock {
  readonly type: 'text';
  readonly text: string;
}

export interface ToolCallBlock {
  readonly type: 'toolCall';
  /** Provider-assigned id; providers normalise foreign ids when a session changes provider. */
  readonly id: string;
  readonly name: string;
  /** Parsed arguments as the model sent them (not yet validated). */
  readonly input: unknown;
}

export interface Usage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
}

export const ZERO_USAGE: Usage = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
});

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
  };
}

export type StopReason = 'stop' | 'toolUse' | 'length' | 'error' | 'aborted';

/** Why a model call failed; `retryable` failures were already retried by the provider before surfacing. */
export type ProviderErrorCode =
  | 'auth'
  | 'rate_limit'
  /** The account is out of credit or quota: no retry helps until the owner pays or raises the limit. */
  | 'quota'
  | 'overloaded'
  | 'server'
  | 'context_overflow'
  | 'bad_request'
  | 'network'
  | 'malformed_stream'
  | 'aborted'
  | 'missing_key'
  | 'limit'
  | 'paused';

export interface ProviderError {
  readonly code: ProviderErrorCode;
  readonly message: string;
  readonly status?: number;
}

export interface UserMessage {
  readonly role: 'user';
  readonly content: string;
  readonly provenance: Provenance;
  readonly timestamp: number;
}

export interface AssistantMessage {
  readonly role: 'assistant';
  readonly content: readonly (TextBlock | ToolCallBlock)[];
  /**
   * Set when the model wrote this having been shown something less trusted than the owner that is not itself a
   * stored message (a memory or summary in the turn's memory preamble): what the model repeats from it keeps its
   * label in later turns, summaries and recall. Absent: the model's words are as trusted as the history around them.
   */
  readonly provenance?: Provenance;
  readonly stopReason: StopReason;
  readonly usage: Usage;
  readonly provider: string;
  readonly model: string;
  readonly error?: ProviderError;
  readonly timestamp: number;
}

export interface ToolResultMessage {
  readonly role: 'toolResult';
  readonly toolCallId: string;
  readonly toolName: string;
  readonly content: string;
  readonly isError: boolean;
  readonly provenance: Provenance;
  readonly timestamp: number;
}

export type Message = UserMessage | AssistantMessage | ToolResultMessage;

export function textOf(message: AssistantMessage): string {
  return message.content
    .filter((block): block is TextBlock => block.type === 'text')
    .map((block) => block.text)
    .join('');
}

export function toolCallsOf(message: AssistantMessage): ToolCallBlock[] {
  return message.content.filter((block): block is ToolCallBlock => block.type === 'toolCall');
}
