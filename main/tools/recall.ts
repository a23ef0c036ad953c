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
/** The most of one item's text, and of the whole answer, handed to the model (about 500 and 5,000 tokens). */
const MAX_ITEM_CHARS = 2_000;
const MAX_OUTPUT_CHARS = 20_000;
const MAX_NAME_CHARS = 200;

const clip = (text: string): string => (text.length > MAX_NAME_CHARS ? `${text.slice(0, MAX_NAME_CHARS)}…` : text);

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
      // Remembered text is anyone's and any length (an imported paste of megabytes): each item is cut, and items stop
      // once the answer would outgrow a turn's context.
      const items: Record<string, unknown>[] = [];
      const shown: RecalledLike[] = [];
      let size = 0;
      let cut = false;
      for (const hit of result.hits) {
        const text = hit.text.length > MAX_ITEM_CHARS ? `${hit.text.slice(0, MAX_ITEM_CHARS)} …(cut: ${hit.text.length - MAX_ITEM_CHARS} more characters)` : hit.text;
        cut ||= text !== hit.text;
        const item = {
          id: hit.id,
          at: new Date(hit.at).toISOString(),
          from: hit.fromOwner ? 'owner' : clip(hit.senderName ?? hit.sender),
          channel: clip(hit.ref.channel),
          conversation: clip(hit.ref.conversation),
          label: hit.provenance.kind,
          text,
        };
        size += JSON.stringify(item).length;
        if (size > MAX_OUTPUT_CHARS && items.length > 0) break;
        items.push(item);
        shown.push(hit);
      }
      const left = result.hits.length - items.length;
      const notices = [
        result.notice,
        cut ? 'Long items were cut.' : undefined,
        left > 0 ? `${left} more matching item(s) were left out to keep this short; ask for fewer or narrow the search.` : undefined,
      ].filter((notice): notice is string => notice !== undefined);
      const content = JSON.stringify({ ...(notices.length > 0 ? { notice: notices.join(' ') } : {}), items });
      const label = weakest(shown.map((hit) => hit.provenance));
      return label.kind === 'owner' ? content : { content, provenance: label };
    },
  });
}

/** A bare date ("2024-05-01") as `to` means the end of that day. */
function endOf(text: string): number {
  const at = Date.parse(text);
  return /^\d{4}-\d{2}-\d{2}$/.test(text.trim()) ? at + 86_400_000 - 1 : at;
}
