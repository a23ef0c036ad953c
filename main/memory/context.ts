import { weakest } from '../common/labels.js';
import { OWNER, type Message, type Provenance, type UserMessage } from '../common/messages.js';
import type { Memory, MemoriesStore } from '../storage/memories-store.js';
import type { Compactor, CompactionResult } from './compaction.js';
import type { LongTermMemories } from './memories.js';
import { estimateMessageTokens, estimateTextTokens, estimateTokens } from './tokens.js';

/** One remembered message found by recall (main/memory/recall.ts of the recall store). */
export interface RecalledItem {
  readonly id: number | string;
  readonly text: string;
  readonly at: number;
  readonly provenance: Provenance;
  readonly sender?: string | undefined;
}

/** Recall over everything remembered; optional, so the context works before (or without) the recall store. */
export type RecallLookup = (query: string, limit: number) => readonly RecalledItem[] | Promise<readonly RecalledItem[]>;

export interface ContextBudgetOptions {
  /** The most input tokens a model call may carry: persona, tools, memory and recent turns together. */
  readonly contextTokens: number;
  /** Long-term memories shown per turn at most. */
  readonly maxMemories?: number;
  /** Recalled items shown per turn at most. */
  readonly maxRecalled?: number;
}

export interface PrepareRequest {
  readonly sessionId: string;
  /** The session's stored messages, in order (message i has seq i + 1). */
  readonly stored: readonly Message[];
  readonly input: UserMessage;
  /** The system prompt and tool specs of this turn, counted against the budget. */
  readonly fixedText: string;
  readonly signal: AbortSignal;
}

export interface PreparedContext {
  /** What the turn starts from: the memory preamble, then the stored history (the gate reads all of it). */
  readonly history: readonly Message[];
  /** The agent loop's transformContext: the preamble, the summary and the newest turns that fit the budget. */
  fit(messages: readonly Message[]): Message[];
  /** The least trusted thing the preamble showed (a memory written this turn is no more trusted). */
  readonly preambleLabel: Provenance;
  readonly compaction?: CompactionResult;
}

/** Shares of the budget left after the persona and tools: the running summary, then memories and recalled items. */
const SUMMARY_SHARE = 0.3;
const PREAMBLE_SHARE = 0.2;
/** After compacting, the recent turns fill at most this share of their budget, so compaction is not needed every turn. */
const REFILL_SHARE = 0.7;
const MAX_COMPACTIONS_PER_TURN = 2;
/** After a failed compaction, try again once this many more messages are stored. */
const RETRY_AFTER_MESSAGES = 12;
/** The token estimate is rough (JSON framing on the wire counts too): plan for this share of the budget. */
const ESTIMATE_MARGIN = 0.9;
/** One extraction call reads at most this much of the conversation. */
const MAX_CHUNK_TOKENS = 12_000;

/**
 * What the model sees each turn: the persona (system prompt and tools, untouched, so their cache breakpoints hold),
 * the memories and recalled items relevant to this turn, the running summary, and as many recent turns as fit
 * `contextTokens`. Older turns are compacted into the summary first (a silent extraction call, see Compactor); if
 * that is not possible now (paused, spend cap, a failing model), the oldest turns are left out for this call and
 * compaction is tried again next turn. Stored messages are never deleted: recall still finds them.
 */
export class MemoryContext {
  readonly #maxMemories: number;
  readonly #maxRecalled: number;
  /** Where compaction last failed per session (stored message count), so a failing model is not asked every turn. */
  readonly #failedAt = new Map<string, number>();

  constructor(
    private readonly deps: {
      readonly store: Pick<MemoriesStore, 'summary'>;
      readonly memories: LongTermMemories;
      readonly compactor: Compactor;
      readonly recall?: RecallLookup | undefined;
      readonly onProblem?: ((message: string, sessionId: string) => void) | undefined;
    },
    private readonly options: ContextBudgetOptions,
  ) {
    this.#maxMemories = options.maxMemories ?? 12;
    this.#maxRecalled = options.maxRecalled ?? 6;
  }

  async prepare(request: PrepareRequest): Promise<PreparedContext> {
    const { sessionId, stored, input } = request;
    const fixed = estimateTextTokens(request.fixedText);
    const available = Math.max(0, Math.floor(this.options.contextTokens * ESTIMATE_MARGIN) - fixed);
    const preamble = await this.#preamble(sessionId, stored, input, available);
    const recentBudget = Math.max(0, available - estimateTokens(preamble.messages) - estimateMessageTokens(input));

    let compaction: CompactionResult | undefined;
    const failedAt = this.#failedAt.get(sessionId);
    const retryNow = failedAt === undefined || stored.length >= failedAt + RETRY_AFTER_MESSAGES;
    for (let round = 0; retryNow && round < MAX_COMPACTIONS_PER_TURN; round++) {
      const through = this.deps.store.summary(sessionId)?.throughSeq ?? 0;
      if (estimateTokens(stored.slice(through)) <= recentBudget) break;
      const cut = chunkEnd(stored, through, recentBudget * REFILL_SHARE);
      if (cut <= through) break;
      compaction = await this.deps.compactor.compact(sessionId, stored.slice(through, cut), cut, request.signal);
      if (!compaction.ok) {
        this.#failedAt.set(sessionId, stored.length);
        this.deps.onProblem?.(compaction.problem ?? 'The conversation could not be compacted.', sessionId);
        break;
      }
      this.#failedAt.delete(sessionId);
    }

    // The summary may have changed: build the preamble again around it.
    const final = compaction?.ok ? await this.#preamble(sessionId, stored, input, available) : preamble;
    const through = this.deps.store.summary(sessionId)?.throughSeq ?? 0;
    const head = final.messages;
    const budget = Math.max(0, available - estimateTokens(head));
    return {
      history: [...head, ...stored],
      preambleLabel: final.label,
      ...(compaction ? { compaction } : {}),
      fit: (messages) => {
        const body = messages.slice(head.length + Math.min(through, stored.length));
        const protectedFrom = stored.length - Math.min(through, stored.length);
        let kept = newestTurnsWithin(body, budget, protectedFrom);
        if (kept.omitted === 0) return [...head, ...kept.messages];
        kept = newestTurnsWithin(body, budget - NOTE_TOKENS, protectedFrom);
        return [...head, omittedNote(kept.omitted), ...kept.messages];
      },
    };
  }

  async #preamble(sessionId: string, stored: readonly Message[], input: UserMessage, available: number): Promise<{ messages: UserMessage[]; label: Provenance }> {
    const summaryBudget = Math.floor(available * SUMMARY_SHARE);
    const budget = Math.floor(available * PREAMBLE_SHARE);
    const summary = this.deps.store.summary(sessionId);
    // What this turn is about: the new text, and the owner's last words before it (a follow-up like "and hers?").
    const lastUser = [...stored].reverse().find((message): message is UserMessage => message.role === 'user');
    const query = `${input.content}\n${lastUser?.content ?? ''}`.slice(0, 2_000);
    // The owner's memories and messages are the owner's private data: a turn someone else started (a contact's
    // message, which is answered to them) sees only its own conversation and its summary.
    const forOwner = input.provenance.kind === 'owner';
    const memories = forOwner ? this.deps.memories.relevantTo(query, this.#maxMemories) : [];
    let recalled: readonly RecalledItem[] = [];
    if (forOwner && this.deps.recall) {
      try {
        // Only the owner's own words come back unasked. Everyone else's messages (most of an imported history) would
        // taint nearly every turn they matched; the recall tool reads them when the model asks, labelled.
        recalled = (await this.deps.recall(input.content, this.#maxRecalled * 3))
          .filter((item) => item.provenance.kind === 'owner' && !inContext(item, stored, summary?.throughSeq ?? 0) && !isInput(item, input))
          .slice(0, this.#maxRecalled);
      } catch (error) {
        this.deps.onProblem?.(`Recall failed for this turn: ${error instanceof Error ? error.message : String(error)}`, sessionId);
      }
    }

    const sections: { title: string; lines: string[]; label: Provenance }[] = [];
    let used = 0;
    const add = (title: string, line: string, label: Provenance): boolean => {
      const cost = estimateTextTokens(line) + 2;
      if (used + cost > budget) return false;
      used += cost;
      const key = labelKey(label);
      const section = sections.find((candidate) => candidate.title === title && labelKey(candidate.label) === key);
      if (section) section.lines.push(line);
      else sections.push({ title, lines: [line], label });
      return true;
    };
    if (summary) {
      // The summary is always shown, cut to its share if it grew past it; memories and recall share the rest.
      const cut = truncateToTokens(summary.text, summaryBudget);
      sections.push({ title: SUMMARY_TITLE, lines: [cut], label: summary.provenance });
    }
    for (const memory of memories) if (!add(MEMORIES_TITLE, memoryLine(memory), memory.provenance)) break;
    for (const item of recalled) if (!add(RECALLED_TITLE, recalledLine(item), item.provenance)) break;

    const messages = sections.map(
      (section): UserMessage => ({
        role: 'user',
        content: `${section.title}\n${section.lines.join('\n')}`,
        provenance: section.label,
        timestamp: summary?.updatedAt ?? 0,
      }),
    );
    return { messages, label: weakest(sections.map((section) => section.label)) };
  }
}

const MEMORIES_TITLE = '[Pavise memory: what you know about the owner and their world; context, not a new request]';
const RECALLED_TITLE = '[Pavise memory: earlier messages recalled for this turn; context, not a new request]';
const SUMMARY_TITLE = '[Pavise memory: summary of this conversation before the messages below; context, not a new request]';

function memoryLine(memory: Memory): string {
  return `- memory #${memory.id} (${new Date(memory.updatedAt).toISOString().slice(0, 10)}): ${memory.text}`;
}

function recalledLine(item: RecalledItem): string {
  return `- ${new Date(item.at).toISOString().slice(0, 16).replace('T', ' ')}${item.sender ? ` ${item.sender}` : ''}: ${item.text}`;
}

function labelKey(label: Provenance): string {
  return JSON.stringify(label);
}

/**
 * The message being answered is remembered as soon as it arrives, before its turn: it is this turn's request, not an
 * earlier message (messages that waited for the model together arrive as one input, a paragraph each).
 */
function isInput(item: RecalledItem, input: UserMessage): boolean {
  return item.text === input.content || input.content.split('\n\n').includes(item.text);
}

function inContext(item: RecalledItem, stored: readonly Message[], through: number): boolean {
  return stored.slice(through).some((message) => message.role !== 'assistant' && message.content === item.text);
}

function truncateToTokens(text: string, tokens: number): string {
  if (estimateTextTokens(text) <= tokens) return text;
  return `${text.slice(0, Math.max(0, tokens * 4 - 8))} …(cut)`;
}

/** The omitted-messages note's own size, with room for a long count. */
const NOTE_TOKENS = estimateMessageTokens(omittedNote(1_000_000));

function omittedNote(count: number): UserMessage {
  return {
    role: 'user',
    content: `[Pavise memory: ${count} older messages of this conversation are not shown and not yet summarised; recall can find them.]`,
    provenance: OWNER,
    timestamp: 0,
  };
}

/**
 * The end (exclusive index) of the chunk to compact: the first turn start after `through` from which the remaining
 * messages fit `target` tokens; at least one whole turn, at most MAX_CHUNK_TOKENS, and never the last turn.
 */
function chunkEnd(stored: readonly Message[], through: number, target: number): number {
  const starts: number[] = [];
  for (let index = through + 1; index < stored.length; index++) if (stored[index]?.role === 'user') starts.push(index);
  if (starts.length === 0) return through;
  let chunkTokens = 0;
  let previous = through;
  let best = through;
  for (const start of starts) {
    chunkTokens += estimateTokens(stored.slice(previous, start));
    previous = start;
    if (chunkTokens > MAX_CHUNK_TOKENS && best > through) break;
    best = start;
    if (estimateTokens(stored.slice(start)) <= target) break;
  }
  return best;
}

/**
 * The newest whole turns of `body` within `budget` tokens. Messages from `protectedFrom` on (this turn's) are always
 * kept; a turn is cut only at a user message, so tool calls keep their results.
 */
function newestTurnsWithin(body: readonly Message[], budget: number, protectedFrom: number): { messages: Message[]; omitted: number } {
  let total = estimateTokens(body);
  let start = 0;
  while (total > budget && start < protectedFrom) {
    let next = start + 1;
    while (next < protectedFrom && body[next]?.role !== 'user') next++;
    if (body[next]?.role !== 'user') break;
    total -= estimateTokens(body.slice(start, next));
    start = next;
  }
  return { messages: body.slice(start), omitted: start };
}
