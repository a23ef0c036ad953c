import type { Database, Statement } from 'better-sqlite3';
import { parseProvenance } from '../common/labels.js';
import type { Provenance, Usage } from '../common/messages.js';

/** How a memory was written: by the `remember` tool, by the owner (settings, CLI), or by extraction at compaction. */
export type MemoryOrigin = 'tool' | 'owner' | 'extraction';

/** An item a memory was made from: a stored session message (`messages.id`) or a recall item. */
export interface MemorySource {
  readonly kind: 'message' | 'item';
  readonly ref: string;
}

export interface Memory {
  readonly id: number;
  readonly text: string;
  /** What the fact is about ("mum's birthday"), when it can be told; a newer fact about it supersedes this one. */
  readonly subject: string | undefined;
  /** Who the words came from; a memory from untrusted text stays untrusted. */
  readonly provenance: Provenance;
  readonly origin: MemoryOrigin;
  readonly sessionId: string | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** The memory that replaced this one; undefined while it is current. */
  readonly supersededBy: number | undefined;
  readonly sources: readonly MemorySource[];
}

export interface NewMemory {
  readonly text: string;
  readonly subject?: string | undefined;
  readonly provenance: Provenance;
  readonly origin: MemoryOrigin;
  readonly sessionId?: string | undefined;
  readonly sources?: readonly MemorySource[];
}

export interface MemoryListOptions {
  /** Also the memories that were superseded. */
  readonly includeSuperseded?: boolean;
  /** Only memories with this label kind. */
  readonly label?: Provenance['kind'];
  /** Only memories updated before this time (ms), for paging back in time. */
  readonly before?: number;
  readonly limit?: number;
}

/** The running summary of one conversation's messages up to `throughSeq`. */
export interface ConversationSummary {
  readonly sessionId: string;
  readonly text: string;
  readonly provenance: Provenance;
  readonly throughSeq: number;
  readonly updatedAt: number;
}

interface MemoryRow {
  id: number;
  text: string;
  subject: string | null;
  provenance: string;
  origin: MemoryOrigin;
  session_id: string | null;
  created_at: number;
  updated_at: number;
  superseded_by: number | null;
}

interface SummaryRow {
  session_id: string;
  text: string;
  provenance: string;
  through_seq: number;
  updated_at: number;
}

const COLUMNS = 'id, text, subject, provenance, origin, session_id, created_at, updated_at, superseded_by';
const MAX_LIMIT = 10_000;
const DEFAULT_LIMIT = 100;

/**
 * Long-term memories, conversation summaries and the usage of model calls made outside turns. Primitives only: what
 * supersedes what is decided in main/memory, inside one `Storage.transaction`.
 */
export class MemoriesStore {
  readonly #db: Database;
  readonly #now: () => number;
  readonly #insert: Statement<[string, string | null, string, string, string | null, number, number], MemoryRow>;
  readonly #insertSource: Statement<[number, string, string]>;
  readonly #sources: Statement<[number], MemorySource>;
  readonly #get: Statement<[number], MemoryRow>;
  readonly #touch: Statement<[number, number]>;
  readonly #supersede: Statement<[number, number, number]>;
  readonly #currentBySubject: Statement<[string], MemoryRow>;
  readonly #currentByText: Statement<[string], MemoryRow>;
  readonly #chain: Statement<[number], MemoryRow>;
  readonly #relevant: Statement<[string, number], MemoryRow>;
  readonly #delete: Statement<[number]>;
  readonly #getSummary: Statement<[string], SummaryRow>;
  readonly #putSummary: Statement<[string, string, string, number, number]>;
  readonly #insertUsage: Statement<[string | null, string, string, string, number, number, number, number, number]>;

  constructor(db: Database, options: { readonly now?: () => number } = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    // A session id that is not (or no longer) stored is recorded as NULL instead of failing the foreign key.
    this.#insert = db.prepare(
      `INSERT INTO memories (text, subject, provenance, origin, session_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, (SELECT id FROM sessions WHERE id = ?), ?, ?) RETURNING ${COLUMNS}`,
    );
    this.#insertSource = db.prepare('INSERT OR IGNORE INTO memory_sources (memory_id, kind, ref) VALUES (?, ?, ?)');
    this.#sources = db.prepare('SELECT kind, ref FROM memory_sources WHERE memory_id = ? ORDER BY kind, ref');
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM memories WHERE id = ?`);
    this.#touch = db.prepare('UPDATE memories SET updated_at = MAX(updated_at, ?) WHERE id = ?');
    this.#supersede = db.prepare('UPDATE memories SET superseded_by = ?, updated_at = MAX(updated_at, ?) WHERE id = ? AND superseded_by IS NULL');
    this.#currentBySubject = db.prepare(`SELECT ${COLUMNS} FROM memories WHERE subject = ? AND superseded_by IS NULL ORDER BY id`);
    this.#currentByText = db.prepare(`SELECT ${COLUMNS} FROM memories WHERE lower(trim(text)) = lower(trim(?)) AND superseded_by IS NULL ORDER BY id`);
    this.#chain = db.prepare(
      `WITH RECURSIVE chain (id) AS (SELECT ? UNION SELECT memories.id FROM memories JOIN chain ON memories.superseded_by = chain.id)
       SELECT ${COLUMNS} FROM memories WHERE id IN (SELECT id FROM chain) ORDER BY created_at DESC, id DESC`,
    );
    this.#relevant = db.prepare(
      `SELECT ${COLUMNS.split(', ').map((column) => `memories.${column}`).join(', ')} FROM memories_fts
       JOIN memories ON memories.id = memories_fts.rowid
       WHERE memories_fts MATCH ? AND memories.superseded_by IS NULL ORDER BY bm25(memories_fts), memories.updated_at DESC LIMIT ?`,
    );
    this.#delete = db.prepare('DELETE FROM memories WHERE id = ?');
    this.#getSummary = db.prepare('SELECT session_id, text, provenance, through_seq, updated_at FROM conversation_summaries WHERE session_id = ?');
    this.#putSummary = db.prepare(
      `INSERT INTO conversation_summaries (session_id, text, provenance, through_seq, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (session_id) DO UPDATE SET text = excluded.text, provenance = excluded.provenance, through_seq = excluded.through_seq,
         updated_at = excluded.updated_at`,
    );
    this.#insertUsage = db.prepare(
      `INSERT INTO background_usage (session_id, purpose, provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, created_at)
       VALUES ((SELECT id FROM sessions WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  insert(memory: NewMemory): Memory {
    const now = this.#now();
    const row = this.#insert.get(
      memory.text,
      memory.subject ?? null,
      JSON.stringify(memory.provenance),
      memory.origin,
      memory.sessionId ?? null,
      now,
      now,
    );
    if (!row) throw new Error('The memory was not saved.');
    this.addSources(row.id, memory.sources ?? []);
    return this.#toMemory(row);
  }

  addSources(id: number, sources: readonly MemorySource[]): void {
    for (const source of sources) this.#insertSource.run(id, source.kind, source.ref);
  }

  /** Marks a memory as seen again now (the same fact stated again). */
  touch(id: number): void {
    this.#touch.run(this.#now(), id);
  }

  /** `oldId` is replaced by `newId`; a memory already superseded stays as it was. */
  supersede(oldId: number, newId: number): boolean {
    return this.#supersede.run(newId, this.#now(), oldId).changes > 0;
  }

  get(id: number): Memory | undefined {
    const row = this.#get.get(id);
    return row && this.#toMemory(row);
  }

  /** Current memories about `subject`. */
  currentAbout(subject: string): Memory[] {
    return this.#currentBySubject.all(subject).map((row) => this.#toMemory(row));
  }

  /** Current memories whose text equals `text` (ignoring case and surrounding space). */
  currentWithText(text: string): Memory[] {
    return this.#currentByText.all(text).map((row) => this.#toMemory(row));
  }

  /** The memory and every earlier version it superseded, newest first. */
  history(id: number): Memory[] {
    return this.#chain.all(id).map((row) => this.#toMemory(row));
  }

  /** Newest first. */
  list(options: MemoryListOptions = {}): Memory[] {
    const limit = options.limit ?? DEFAULT_LIMIT;
    checkLimit(limit);
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (!options.includeSuperseded) where.push('superseded_by IS NULL');
    if (options.label) {
      where.push(`json_extract(provenance, '$.kind') = ?`);
      params.push(options.label);
    }
    if (options.before !== undefined) {
      where.push('updated_at < ?');
      params.push(options.before);
    }
    const sql = `SELECT ${COLUMNS} FROM memories ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC, id DESC LIMIT ?`;
    return (this.#db.prepare(sql).all(...params, limit) as MemoryRow[]).map((row) => this.#toMemory(row));
  }

  /**
   * Current memories matching any word of `words` (full-text, best first). Each word is quoted, so FTS operators in
   * the text are searched for, never obeyed.
   */
  relevant(words: readonly string[], limit: number): Memory[] {
    checkLimit(limit);
    if (words.length === 0) return [];
    // FTS5 reads a NUL as the end of the query: it is left out, never allowed to cut the quoting short.
    const query = words.map((word) => `"${word.replaceAll('\u0000', '').replaceAll('"', '""')}"`).join(' OR ');
    return this.#relevant.all(query, limit).map((row) => this.#toMemory(row));
  }

  /** Deletes the memory and every version it superseded; returns how many rows went. */
  forget(id: number): number {
    const chain = this.#chain.all(id).length;
    return this.#delete.run(id).changes === 0 ? 0 : chain;
  }

  summary(sessionId: string): ConversationSummary | undefined {
    const row = this.#getSummary.get(sessionId);
    if (!row) return undefined;
    return { sessionId: row.session_id, text: row.text, provenance: parseProvenance(row.provenance), throughSeq: row.through_seq, updatedAt: row.updated_at };
  }

  saveSummary(sessionId: string, text: string, provenance: Provenance, throughSeq: number): void {
    this.#putSummary.run(sessionId, text, JSON.stringify(provenance), throughSeq, this.#now());
  }

  /** A model call made outside a turn; the spend meter counts it with the turns' usage. */
  recordUsage(entry: { readonly sessionId?: string; readonly purpose: string; readonly provider: string; readonly model: string; readonly usage: Usage }): void {
    const { usage } = entry;
    this.#insertUsage.run(
      entry.sessionId ?? null,
      entry.purpose,
      entry.provider,
      entry.model,
      usage.inputTokens,
      usage.outputTokens,
      usage.cacheReadTokens,
      usage.cacheWriteTokens,
      this.#now(),
    );
  }

  #toMemory(row: MemoryRow): Memory {
    return {
      id: row.id,
      text: row.text,
      subject: row.subject ?? undefined,
      provenance: parseProvenance(row.provenance),
      origin: row.origin,
      sessionId: row.session_id ?? undefined,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      supersededBy: row.superseded_by ?? undefined,
      sources: this.#sources.all(row.id),
    };
  }
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_LIMIT}, not ${limit}.`);
  }
}
