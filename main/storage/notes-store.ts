import type { Database, Statement } from 'better-sqlite3';

export interface Note {
  readonly id: number;
  readonly text: string;
  readonly createdAt: number;
  /** The session the note was saved from, when that session is stored. */
  readonly sessionId: string | undefined;
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
}

const NOTE_COLUMNS = 'id, text, created_at, session_id';

export class NotesStore {
  readonly #now: () => number;
  readonly #insert: Statement<[string, number, string | null], NoteRow>;
  readonly #list: Statement<[number], NoteRow>;
  readonly #search: Statement<[string, number], NoteRow>;

  constructor(db: Database, options: NotesStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    // A session id that is not (or no longer) stored is recorded as NULL instead of failing the foreign key.
    this.#insert = db.prepare(
      `INSERT INTO notes (text, created_at, session_id) VALUES (?, ?, (SELECT id FROM sessions WHERE id = ?))
       RETURNING ${NOTE_COLUMNS}`,
    );
    this.#list = db.prepare(`SELECT ${NOTE_COLUMNS} FROM notes ORDER BY created_at DESC, id DESC LIMIT ?`);
    this.#search = db.prepare(
      `SELECT ${NOTE_COLUMNS} FROM notes WHERE text LIKE '%' || ? || '%' ESCAPE '\\'
       ORDER BY created_at DESC, id DESC LIMIT ?`,
    );
  }

  add(text: string, sessionId?: string): Note {
    const row = this.#insert.get(text, this.#now(), sessionId ?? null);
    if (!row) throw new Error('The note was not saved.');
    return toNote(row);
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
  return { id: row.id, text: row.text, createdAt: row.created_at, sessionId: row.session_id ?? undefined };
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_LIMIT}, not ${limit}.`);
  }
}
