import { z } from 'zod';
import { weakest } from '../common/labels.js';
import type { Provenance } from '../common/messages.js';
import { defineTool, type Tool } from './tool.js';

/** A recalled item as the tool needs it (main/memory/recall.ts's RecallHit fits). */
export interface RecalledLike {
  readonly id: number;
  readonly text: string;
  readonly at: number;
  readonly provenance: Provenance;
  readonly sender: string;
  readonly senderName?: string | undefined;
  readonly fromOwner: boolean;
  readonly ref: { readonly channel: string; readonly conversation: string; readonly guid: string };
}

/** What the recall tool needs from memory; the caller injects it (main/memory's MemoryRecall fits). */
export interface RecallLike {
  search(
    query: string,
    options: { limit?: number; from?: number; to?: number; who?: string },
    signal?: AbortSignal,
  ): Promise<{ readonly hits: readonly RecalledLike[]; readonly notice?: string | undefined }>;
}

const DEFAULT_LIMIT = 10;

const day = z
  .string()
  .max(40)
  .refine((text) => !Number.isNaN(Date.parse(text)), 'must be a date such as "2024-05-01" or "2024-05-01T09:30:00Z"');

const recallInput = z.object({
  query: z.string().min(1).max(500).describe('What to look for, in plain words ("when did Sam say the flat was free", "Mum birthday").'),
  from: day.optional().describe('Only things said on or after this date (ISO 8601).'),
  to: day.optional().describe('Only things said on or before this date (ISO 8601; a bare date includes that whole day).'),
  who: z.string().min(1).max(100).optional().describe("Only things said by this person (a name or handle); the owner's name means the owner."),
  limit: z.int().min(1).max(50).optional().describe(`How many items; default ${DEFAULT_LIMIT}.`),
});

export type RecallInput = z.infer<typeof recallInput>;

/**
 * `recall`: searches everything remembered (messages on every channel, turns, notes). It reads private data, so it
 * goes through the gate as `read_private`; its output is as trusted as the least trusted item it returns, so a
 * stranger's message recalled months later is still the stranger's text, fenced for the model.
 */
export function createRecallTool(memory: RecallLike): Tool<RecallInput> {
  return defineTool({
    name: 'recall',
    description:
      'Search everything remembered: messages on every channel, past conversations with you, notes. Returns the best matches with who said them, when and where.',
    input: recallInput,
    effects: [{ kind: 'read_private', what: { template: 'your messages and memory' } }],
    summary: 'Search your messages and memory for "{query}"',
    output: { kind: 'trigger' },
    execute: async ({ query, from, to, who, limit = DEFAULT_LIMIT }, { signal }) => {
      const range = { ...(from ? { from: Date.parse(from) } : {}), ...(to ? { to: endOf(to) } : {}) };
      const result = await memory.search(query, { limit, ...range, ...(who ? { who } : {}) }, signal);
      if (result.hits.length === 0) return result.notice ? `Nothing remembered matches that. (${result.notice})` : 'Nothing remembered matches that.';
      const content = JSON.stringify({
        ...(result.notice ? { notice: result.notice } : {}),
        items: result.hits.map((hit) => ({
          id: hit.id,
          at: new Date(hit.at).toISOString(),
          from: hit.fromOwner ? 'owner' : (hit.senderName ?? hit.sender),
          channel: hit.ref.channel,
          conversation: hit.ref.conversation,
          label: hit.provenance.kind,
          text: hit.text,
        })),
      });
      const label = weakest(result.hits.map((hit) => hit.provenance));
      return label.kind === 'owner' ? content : { content, provenance: label };
    },
  });
}

/** A bare date ("2024-05-01") as `to` means the end of that day. */
function endOf(text: string): number {
  const at = Date.parse(text);
  return /^\d{4}-\d{2}-\d{2}$/.test(text.trim()) ? at + 86_400_000 - 1 : at;
}
