import { weakest } from '../common/labels.js';
import { OWNER, type Provenance } from '../common/messages.js';
import type { MemoriesStore } from '../storage/memories-store.js';
import { Compactor, type ModelAccess } from './compaction.js';
import { MemoryContext, type PrepareRequest, type PreparedContext, type RecallLookup } from './context.js';
import { LongTermMemories } from './memories.js';
import type { RecallResult } from './recall.js';

export interface MemoryDeps {
  readonly store: MemoriesStore;
  readonly transaction: <T>(work: () => T) => T;
  /** The least trusted label among a session's stored messages (what the model had read there). */
  readonly sessionLabel: (sessionId: string) => Provenance;
  readonly model: ModelAccess;
  readonly contextTokens: number;
  readonly recall?: RecallLookup | undefined;
  /** Search over everything remembered, as `pavise memory search` does (dates understood). */
  readonly search?: ((query: string, limit: number) => Promise<RecallResult>) | undefined;
  readonly onProblem?: ((message: string, sessionId: string) => void) | undefined;
  /** Scrubs known secrets from a memory's text before it is stored. */
  readonly redact?: ((text: string) => string) | undefined;
}

/** Long-term memories and the context budget of one home, wired together. */
export interface Memory {
  readonly memories: LongTermMemories;
  /** Everything remembered (messages, turns, notes) matching `query`; empty when no recall store is wired. */
  search(query: string, limit: number): Promise<RecallResult>;
  /** For TurnRunner: builds a turn's starting history and its transformContext. */
  prepare(request: PrepareRequest): Promise<PreparedContext>;
  /** For the `remember` and `forget` tools. */
  readonly tools: {
    remember(text: string, sessionId: string, replaces: readonly number[]): { id: number; action: 'created' | 'unchanged'; superseded: readonly number[]; provenance: Provenance };
    textOf(id: number): string | undefined;
    forget(id: number): number;
  };
}

export function createMemory(deps: MemoryDeps): Memory {
  const memories = new LongTermMemories(deps.store, deps.transaction, deps.redact);
  const compactor = new Compactor({ store: deps.store, memories, model: deps.model, transaction: deps.transaction });
  const context = new MemoryContext(
    { store: deps.store, memories, compactor, recall: deps.recall, onProblem: deps.onProblem },
    { contextTokens: deps.contextTokens },
  );
  // What the model was shown from memory in each session's current turn: a memory written in that turn is no more
  // trusted than it (a remembered stranger's claim, repeated, stays the stranger's).
  const shownLabels = new Map<string, Provenance>();
  return {
    memories,
    search: (query, limit) => deps.search?.(query, limit) ?? Promise.resolve({ hits: [], mode: 'text' }),
    prepare: async (request) => {
      const prepared = await context.prepare(request);
      shownLabels.set(request.sessionId, prepared.preambleLabel);
      return prepared;
    },
    tools: {
      remember: (text, sessionId, replaces) => {
        const provenance = weakest([deps.sessionLabel(sessionId), shownLabels.get(sessionId) ?? OWNER]);
        const outcome = memories.remember({ text, provenance, origin: 'tool', sessionId, replaces, sources: [{ kind: 'message', ref: sessionId }] });
        return { id: outcome.memory.id, action: outcome.action, superseded: outcome.superseded, provenance: outcome.memory.provenance };
      },
      textOf: (id) => {
        const memory = deps.store.get(id);
        return memory && memory.supersededBy === undefined ? memory.text : undefined;
      },
      forget: (id) => memories.forget(id),
    },
  };
}
