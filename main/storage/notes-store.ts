import type { Database, Statement } from 'better-sqlite3';
import { parseProvenance, weakest } from '../common/labels.js';
import type { Provenance } from '../common/messages.js';

export interface Note {
  readonly id: number;
  readonly text: string;
  readonly createdAt: number;
  /** The session the note was saved from, when that session is stored. */
  readonly sessionId: string | undefined;
  /** Who the text came from: read back with the note, so a recalled note is as trusted as what it was made from. */
  readonly provenance: Provenance;
}

export interface NotesStoreOptions {
  readonly now?: () => number;
}

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

interface NoteRow {
  id: number;
  text: string;
  created_at: number;
  session_id: string | null;
  provenance: string;
}

const NOTE_COLUMNS = 'id, text, created_at, session_id, provenance';

export class NotesStore {
  readonly #now: () => number;
  readonly #insert: Statement<[string, number, string | null, string], NoteRow>;
  readonly #sessionLabels: Statement<[string], { provenance: string }>;
  readonly #list: Statement<[number], NoteRow>;
  readonly #search: Statement<[string, number], NoteRow>;

  constructor(db: Database, options: NotesStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    // A session id that is not (or no longer) stored is recorded as NULL instead of failing the foreign key.
    this.#insert = db.prepare(
      `INSERT INTO notes (text, created_at, session_id, provenance) VALUES (?, ?, (SELECT id FROM sessions WHERE id = ?), ?)
       RETURNING ${NOTE_COLUMNS}`,
    );
    this.#sessionLabels = db.prepare(
      `SELECT DISTINCT provenance FROM messages WHERE session_id = ? AND provenance IS NOT NULL AND json_extract(provenance, '$.kind') != 'owner'`,
    );
    this.#list = db.prepare(`SELECT ${NOTE_COLUMNS} FROM notes ORDER BY created_at DESC, id DESC LIMIT ?`);
    this.#search = db.prepare(
      `SELECT ${NOTE_COLUMNS} FROM notes WHERE text LIKE '%' || ? || '%' ESCAPE '\\'
       ORDER BY created_at DESC, id DESC LIMIT ?`,
    );
  }

  /**
   * Saves a note labelled `provenance`; without one, the note is as trusted as the least trusted message stored in
   * the session it was saved from (what the model had read when it wrote the note), and the owner's otherwise.
   */
  add(text: string, sessionId?: string, provenance?: Provenance): Note {
    const label = provenance ?? (sessionId === undefined ? undefined : this.sessionLabel(sessionId));
    const row = this.#insert.get(text, this.#now(), sessionId ?? null, JSON.stringify(label ?? { kind: 'owner' }));
    if (!row) throw new Error('The note was not saved.');
    return toNote(row);
  }

  /** The least trusted label among a session's stored messages. */
  sessionLabel(sessionId: string): Provenance {
    return weakest(this.#sessionLabels.all(sessionId).map((row) => parseProvenance(row.provenance)));
  }

  /** Newest first. */
  list(limit = DEFAULT_LIMIT): Note[] {
    checkLimit(limit);
    return this.#list.all(limit).map(toNote);
  }

  /** Notes containing `query` literally (ASCII case-insensitive; `%`, `_` and `\` match themselves), newest first. */
  search(query: string, limit = DEFAULT_LIMIT): Note[] {
    checkLimit(limit);
    return this.#search.all(escapeLike(query), limit).map(toNote);
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

function toNote(row: NoteRow): Note {
  return { id: row.id, text: row.text, createdAt: row.created_at, sessionId: row.session_id ?? undefined, provenance: parseProvenance(row.provenance) };
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_LIMIT}, not ${limit}.`);
  }
}
