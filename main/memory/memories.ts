import { weakest } from '../common/labels.js';
import type { Provenance } from '../common/messages.js';
import type { Memory, MemoriesStore, MemoryOrigin, MemorySource } from '../storage/memories-store.js';

export interface RememberRequest {
  readonly text: string;
  readonly provenance: Provenance;
  readonly origin: MemoryOrigin;
  readonly sessionId?: string | undefined;
  readonly sources?: readonly MemorySource[];
  /** Memories the writer says this one replaces (extraction names them); honoured only where the label allows. */
  readonly replaces?: readonly number[];
}

export interface RememberOutcome {
  readonly memory: Memory;
  /** `created`: a new memory; `unchanged`: the same fact was already remembered at least as trusted. */
  readonly action: 'created' | 'unchanged';
  /** Ids of the memories the new one superseded. */
  readonly superseded: readonly number[];
}

export const MAX_MEMORY_CHARS = 2_000;

const RANK = { owner: 0, contact: 1, untrusted: 2 } as const;

/** How many ranked memories are read per place shown, so the owner's own can be found behind others' claims. */
const OTHERS_LOOKAHEAD = 4;
/** The store's limit on one lookup. */
const MAX_CANDIDATES = 100;

/**
 * May a memory labelled `next` replace one labelled `previous`? Only when it is at least as trusted: a stranger's
 * claim never overwrites what the owner said (memory poisoning), and one contact never overwrites another's words.
 */
export function canSupersede(next: Provenance, previous: Provenance): boolean {
  if (RANK[next.kind] < RANK[previous.kind]) return true;
  if (next.kind !== previous.kind) return false;
  return next.kind !== 'contact' || (previous.kind === 'contact' && next.contactId === previous.contactId);
}

const COPULA = /^(.{2,80}?)\s+(is|are|was|were|lives in|works at|works as)\s+(\S+)/i;
/** Words after "is" that belong to the subject: "is called Ada" and "is a nurse" say different things about X. */
const QUALIFIER = /^(?:[a-z]+ed|from|in|at|on|born|allergic|married)$/i;

/**
 * What a fact is about, when its form says so: "Mum's birthday is 12 March" is about "mum's birthday", "Sam lives in
 * Leeds" about "sam lives in". A later fact about the same subject supersedes the earlier one. Undefined for facts
 * without that shape.
 */
export function subjectOf(text: string): string | undefined {
  const first = text.trim().split(/(?<=[.!?])\s/)[0] ?? '';
  const match = COPULA.exec(first);
  const head = match?.[1] ?? /^(.{2,80}?):\s+\S/.exec(first)?.[1];
  if (!head) return undefined;
  const verb = match?.[2]?.toLowerCase() ?? '';
  const next = match?.[3]?.replace(/[^\p{L}]+$/u, '') ?? '';
  const qualifier = verb.includes(' ') ? ` ${verb}` : QUALIFIER.test(next) ? ` ${verb} ${next.toLowerCase()}` : '';
  const subject = normalize(head) + qualifier;
  const words = subject.split(' ').length;
  return subject.length > 0 && words <= 8 ? subject : undefined;
}

function normalize(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/^(?:the owner's|owner's|my|the)\s+/, '')
    .replace(/[^\p{L}\p{N}' ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const STOP_WORDS = new Set(
  'a an and are as at be but by can could did do does for from had has have he her his how i if in into is it its me my of on or our she so than that the their them then there they this to was we were what when where which who why will with would you your about tell know remember please pavise'.split(
    ' ',
  ),
);

/** The words of `text` worth searching memories for. */
export function searchWords(text: string, max = 24): string[] {
  const words = new Set<string>();
  for (const match of text.normalize('NFKC').toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const word = match[0];
    if (word.length < 3 || STOP_WORDS.has(word)) continue;
    words.add(word);
    if (words.size >= max) break;
  }
  return [...words];
}

/**
 * Long-term memories with their rules: a fact stated again is not duplicated, a contradicted fact (same subject, or
 * named by `replaces`) is superseded when the new label is at least as trusted, and otherwise both are kept, each
 * with its own label, so the model sees which one the owner said.
 */
export class LongTermMemories {
  /**
   * `redact` scrubs known secrets from a memory's text before it is stored, as every stored message is scrubbed
   * (invariant 2): whoever writes it (the owner in the Memory pane, the `remember` tool, extraction), a memory goes on
   * to the Memory pane, its exports and every later extraction call.
   */
  constructor(
    private readonly store: MemoriesStore,
    private readonly transaction: <T>(work: () => T) => T,
    private readonly redact: (text: string) => string = (text) => text,
  ) {}

  remember(request: RememberRequest): RememberOutcome {
    const text = this.redact(request.text).trim();
    if (text.length === 0) throw new RangeError('A memory needs some text, not only white space.');
    if (text.length > MAX_MEMORY_CHARS) throw new RangeError(`A memory is at most ${MAX_MEMORY_CHARS} characters; this one has ${text.length}. Split it into facts.`);
    return this.transaction(() => {
      const same = this.store.currentWithText(text).find((memory) => canSupersede(memory.provenance, request.provenance));
      if (same) {
        this.store.addSources(same.id, request.sources ?? []);
        this.store.touch(same.id);
        return { memory: this.store.get(same.id) ?? same, action: 'unchanged', superseded: [] };
      }
      const subject = subjectOf(text);
      const candidates = new Map<number, Memory>();
      for (const memory of this.store.currentWithText(text)) candidates.set(memory.id, memory);
      if (subject) for (const memory of this.store.currentAbout(subject)) candidates.set(memory.id, memory);
      for (const id of request.replaces ?? []) {
        const memory = this.store.get(id);
        if (memory && memory.supersededBy === undefined) candidates.set(memory.id, memory);
      }
      const created = this.store.insert({
        text,
        subject,
        provenance: request.provenance,
        origin: request.origin,
        sessionId: request.sessionId,
        sources: request.sources ?? [],
      });
      const superseded: number[] = [];
      for (const memory of candidates.values()) {
        if (canSupersede(request.provenance, memory.provenance) && this.store.supersede(memory.id, created.id)) superseded.push(memory.id);
      }
      return { memory: created, action: 'created', superseded };
    });
  }

  /** Current memories relevant to `text`, best first; owner's before others' at equal rank is left to the search. */
  /**
   * The memories most relevant to `text`, best first. Others' memories (a contact's, or facts kept from a stranger's
   * text without asking anyone) take at most half of the places while the owner's own are there to fill them, so
   * a flood of someone else's relevant-sounding claims cannot push out what the owner told Pavise.
   */
  relevantTo(text: string, limit: number): Memory[] {
    const ranked = this.store.relevant(searchWords(text), Math.min(limit * OTHERS_LOOKAHEAD, MAX_CANDIDATES));
    const owners = ranked.filter((memory) => memory.provenance.kind === 'owner').length;
    let othersLeft = Math.max(Math.ceil(limit / 2), limit - owners);
    const shown: Memory[] = [];
    for (const memory of ranked) {
      if (shown.length === limit) break;
      if (memory.provenance.kind !== 'owner') {
        if (othersLeft === 0) continue;
        othersLeft--;
      }
      shown.push(memory);
    }
    return shown;
  }

  forget(id: number): number {
    return this.store.forget(id);
  }
}

/** The label of a memory made from several pieces: the least trusted of them. */
export function labelOf(labels: Iterable<Provenance | undefined>): Provenance {
  return weakest(labels);
}
