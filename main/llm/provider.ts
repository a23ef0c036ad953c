import type { AssistantMessage, Message } from '../common/messages.js';

import type { ProviderId } from '../common/providers.js';

export type { ProviderId };

/** A tool as the model sees it: name, description and the JSON Schema of its input. */
export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Record<string, unknown>;
}

export interface ModelRequest {
  readonly model: string;
  /** The stable prefix (persona + instructions); providers mark it cacheable. */
  readonly system: string;
  readonly messages: readonly Message[];
  readonly tools: readonly ToolSpec[];
  readonly maxOutputTokens: number;
}

export type ProviderEvent =
  | { readonly type: 'text_delta'; readonly text: string }
  | { readonly type: 'toolcall_start'; readonly id: string; readonly name: string }
  | { readonly type: 'retry'; readonly attempt: number; readonly delayMs: number; readonly reason: string };

export interface CallOptions {
  /** Resolved at the moment the request leaves; never stored by the provider. */
  readonly apiKey: string | undefined;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: ProviderEvent) => void;
  /**
   * Asked before each retry leaves (a retry is a new request): false ends the retries, and the answer is the last
   * failure. The agent loop asks the pause switch and the spend cap again here.
   */
  readonly mayRetry?: () => Promise<boolean> | boolean;
}

/**
 * Contract: `complete` never throws and never rejects. Every failure (HTTP status, network, malformed stream,
 * abort, context overflow) comes back as an AssistantMessage with `stopReason: 'error' | 'aborted'` and a typed
 * `error`. Retryable failures (429, 529/overloaded, 5xx, connection resets before any output) are retried inside
 * the provider with backoff that honours `retry-after`.
 */
export interface Provider {
  readonly id: ProviderId;
  complete(request: ModelRequest, options: CallOptions): Promise<AssistantMessage>;
}
