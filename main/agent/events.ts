import type { Message, ProviderError, StopReason, Usage } from '../common/messages.js';

export type AgentEvent =
  | { readonly type: 'turn_start'; readonly sessionId: string }
  /** A complete message was added to the conversation; subscribers persist it. */
  | { readonly type: 'message'; readonly message: Message }
  | { readonly type: 'text_delta'; readonly text: string }
  | { readonly type: 'tool_start'; readonly id: string; readonly name: string; readonly input: unknown }
  | {
      readonly type: 'tool_end';
      readonly id: string;
      readonly name: string;
      readonly isError: boolean;
      readonly content: string;
    }
  | { readonly type: 'retry'; readonly attempt: number; readonly delayMs: number; readonly reason: string }
  | { readonly type: 'usage'; readonly step: Usage; readonly turn: Usage }
  | {
      readonly type: 'turn_end';
      readonly stopReason: StopReason;
      readonly error?: ProviderError;
    };
