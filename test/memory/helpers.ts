import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZERO_USAGE, type AssistantMessage, type Message, type TextBlock, type ToolCallBlock } from '../../main/common/messages.js';
import { compose, type Core } from '../../main/compose.js';
import type { CallOptions, ModelRequest, Provider } from '../../main/llm/provider.js';
import { fakeExtraction, isExtractionRequest } from '../fakes/fake-memory-model.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';

type Reply = (request: ModelRequest) => { content: (TextBlock | ToolCallBlock)[] } | { error: string };

/**
 * An in-process provider for memory tests: extraction calls get the scripted extractor's answer (or `extraction`'s),
 * every other call the next queued reply, else a plain "ok". Records every request.
 */
export class MemoryTestProvider implements Provider {
  readonly id = 'anthropic' as const;
  readonly requests: ModelRequest[] = [];
  readonly replies: Reply[] = [];
  extraction: (content: string) => string = fakeExtraction;

  get turnRequests(): ModelRequest[] {
    return this.requests.filter((request) => !isExtractionRequest(request.system));
  }

  get extractionRequests(): ModelRequest[] {
    return this.requests.filter((request) => isExtractionRequest(request.system));
  }

  async complete(request: ModelRequest, _options: CallOptions): Promise<AssistantMessage> {
    this.requests.push(structuredClone(request));
    const base = { role: 'assistant' as const, provider: this.id, model: request.model, timestamp: Date.now(), usage: { ...ZERO_USAGE, inputTokens: 100, outputTokens: 20 } };
    if (isExtractionRequest(request.system)) {
      const last = request.messages.at(-1);
      const text = this.extraction(last && last.role === 'user' ? last.content : '');
      return { ...base, content: [{ type: 'text', text }], stopReason: 'stop' };
    }
    const reply = this.replies.shift()?.(request) ?? { content: [{ type: 'text', text: 'ok' }] };
    if ('error' in reply) return { ...base, content: [], stopReason: 'error', error: { code: 'server', message: reply.error } };
    return { ...base, content: reply.content, stopReason: reply.content.some((block) => block.type === 'toolCall') ? 'toolUse' : 'stop' };
  }
}

export interface MemoryHome {
  readonly core: Core;
  readonly provider: MemoryTestProvider;
  close(): void;
}

export async function openMemoryHome(config: unknown = { memory: { contextTokens: 3_000 } }): Promise<MemoryHome> {
  const dir = mkdtempSync(join(tmpdir(), 'pavise-memctx-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const provider = new MemoryTestProvider();
  const core = await compose({
    env: { PAVISE_HOME: dir, ANTHROPIC_API_KEY: 'test-key-not-real' },
    secrets: new MemorySecretStore(),
    provider,
    approvalPollMs: 5,
    // The budgets below were set for the core tools; the native calendar's seven tools would take most of them.
    calendar: false,
  });
  return {
    core,
    provider,
    close: () => {
      core.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every text the model was shown in one request, fences included. */
export function shownText(request: ModelRequest): string {
  return request.messages.map((message: Message) => (message.role === 'assistant' ? message.content.map((block) => (block.type === 'text' ? block.text : '')).join('') : message.content)).join('\n');
}
