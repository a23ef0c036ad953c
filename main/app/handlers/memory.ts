import type { MemoryListing, MemoryPerson, RecalledView } from '../../common/ipc.js';
import { describeLabel } from '../../common/memory-view.js';
import { OWNER } from '../../common/messages.js';
import type { Memory } from '../../memory/memory.js';
import { personKey, toMemoryView } from '../../memory/view.js';
import type { MemoriesStore } from '../../storage/memories-store.js';
import { exportMarkdown } from '../../memory/export.js';
import type { Handlers } from './handler.js';

export interface MemoryHandlerDeps {
  readonly longTermMemory: Pick<Memory, 'memories' | 'search'>;
  readonly memoriesStore: Pick<MemoriesStore, 'list' | 'get' | 'forget'>;
}

const RECALLED = 20;

/** The Memory pane: browse, search, add, forget and export long-term memories, and search everything remembered. */
export function memoryHandlers(deps: MemoryHandlerDeps): Handlers<'memory.list' | 'memory.add' | 'memory.forget' | 'memory.export'> {
  return {
    'memory.list': async (request): Promise<MemoryListing> => {
      const all = deps.memoriesStore.list({ includeSuperseded: request.includeReplaced === true, limit: 10_000 });
      const people = new Map<string, MemoryPerson>();
      for (const memory of all) {
        const key = personKey(memory.provenance);
        const known = people.get(key);
        people.set(key, { key, label: known?.label ?? describeLabel(memory.provenance), count: (known?.count ?? 0) + 1 });
      }
      let memories = all;
      if (request.query) {
        const matching = new Set(deps.longTermMemory.memories.relevantTo(request.query, 500).map((memory) => memory.id));
        memories = memories.filter((memory) => matching.has(memory.id) || memory.text.toLowerCase().includes((request.query ?? '').toLowerCase()));
      }
      if (request.person) memories = memories.filter((memory) => personKey(memory.provenance) === request.person);
      let recalled: RecalledView[] = [];
      let notice: string | undefined;
      if (request.query) {
        try {
          const result = await deps.longTermMemory.search(request.query, RECALLED);
          notice = result.notice;
          recalled = result.hits.map((hit) => ({
            id: hit.id,
            text: hit.text,
            at: hit.at,
            from: describeLabel(hit.provenance),
            untrusted: hit.provenance.kind !== 'owner',
            sender: hit.sender,
            source: `${hit.ref.channel} ${hit.ref.conversation}`,
          }));
        } catch (error) {
          notice = `Searching your messages failed: ${error instanceof Error ? error.message : String(error)}`;
        }
      }
      return { memories: memories.map(toMemoryView), people: [...people.values()], recalled, ...(notice ? { notice } : {}) };
    },
    'memory.add': (request) => toMemoryView(deps.longTermMemory.memories.remember({ text: request.text, provenance: OWNER, origin: 'owner' }).memory),
    'memory.forget': (request) => {
      const forgotten = deps.memoriesStore.forget(request.id);
      if (forgotten === 0) return { ok: false, code: 'not_found', message: `There is no memory #${request.id}; it may have been forgotten already.` };
      return { forgotten };
    },
    'memory.export': (request) => {
      const memories = deps.memoriesStore.list({ includeSuperseded: true, limit: 10_000 });
      const stamp = new Date().toISOString().slice(0, 10);
      return request.format === 'jsonl'
        ? { filename: `pavise-memories-${stamp}.jsonl`, text: memories.map((memory) => `${JSON.stringify(toMemoryView(memory))}\n`).join('') }
        : { filename: `pavise-memories-${stamp}.md`, text: exportMarkdown(memories) };
    },
  };
}
