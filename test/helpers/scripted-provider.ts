import { ZERO_USAGE, type AssistantMessage, type TextBlock, type ToolCallBlock, type Usage } from '../../main/common/messages.js';
import type { CallOptions, ModelRequest, Provider, ProviderId } from '../../main/llm/provider.js';

type Step = (request: ModelRequest, options: CallOptions) => Partial<AssistantMessage> | Promise<Partial<AssistantMessage>>;

/**
 * An in-process Provider for unit tests of the loop only (end-to-end tests use the real SDKs against fake servers).
 * Each call takes the next scripted step and records the request it was given.
 */
export class ScriptedProvider implements Provider {
  readonly requests: { request: ModelRequest; apiKey: string | undefined }[] = [];
  readonly #steps: Step[];

  constructor(
    steps: Step[],
    readonly id: ProviderId = 'anthropic',
  ) {
    this.#steps = [...steps];
  }

  async complete(request: ModelRequest, options: CallOptions): Promise<AssistantMessage> {
    this.requests.push({ request: structuredClone(request), apiKey: options.apiKey });
    const step = this.#steps.shift();
    if (!step) throw new Error('ScriptedProvider ran out of steps');
    const partial = await step(request, options);
    const content = partial.content ?? [];
    return {
      role: 'assistant',
      content,
      stopReason: partial.stopReason ?? (content.some((block) => block.type === 'toolCall') ? 'toolUse' : 'stop'),
      usage: partial.usage ?? usage(10, 5),
      provider: this.id,
      model: request.model,
      timestamp: Date.now(),
      ...(partial.error ? { error: partial.error } : {}),
    };
  }
}

export const text = (value: string): TextBlock => ({ type: 'text', text: value });
export const call = (id: string, name: string, input: unknown): ToolCallBlock => ({ type: 'toolCall', id, name, input });
export const usage = (inputTokens: number, outputTokens: number): Usage => ({ ...ZERO_USAGE, inputTokens, outputTokens });
