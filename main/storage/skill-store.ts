import type { Database, Statement } from 'better-sqlite3';

export type SkillKind = 'skill' | 'mcp';
/** `changed`: the files on disk no longer hash to the pinned value; it stays off until reviewed again. */
export type SkillState = 'enabled' | 'disabled' | 'changed';

export interface SkillRecord {
  readonly name: string;
  readonly kind: SkillKind;
  readonly contentHash: string;
  /** The permissions the owner granted, as the skills module serialised them. */
  readonly granted: unknown;
  readonly state: SkillState;
  /** Where it was installed from (shown to the owner, never read back as a path to load). */
  readonly source: string;
  readonly installedAt: number;
  readonly updatedAt: number;
}

interface SkillRow {
  name: string;
  kind: SkillKind;
  content_hash: string;
  granted_json: string;
  state: SkillState;
  source: string;
  installed_at: number;
  updated_at: number;
}

const COLUMNS = 'name, kind, content_hash, granted_json, state, source, installed_at, updated_at';

/** The installed skills and MCP servers (migration 0008). */
export class SkillStore {
  readonly #now: () => number;
  readonly #upsert: Statement<[string, SkillKind, string, string, SkillState, string, number, number]>;
  readonly #get: Statement<[string], SkillRow>;
  readonly #list: Statement<[], SkillRow>;
  readonly #setState: Statement<[SkillState, number, string]>;
  readonly #remove: Statement<[string]>;

  constructor(db: Database, options: { readonly now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#upsert = db.prepare(
      `INSERT INTO skills (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, content_hash = excluded.content_hash, granted_json = excluded.granted_json,
         state = excluded.state, source = excluded.source, updated_at = excluded.updated_at`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM skills WHERE name = ?`);
    this.#list = db.prepare(`SELECT ${COLUMNS} FROM skills ORDER BY name`);
    this.#setState = db.prepare('UPDATE skills SET state = ?, updated_at = ? WHERE name = ?');
    this.#remove = db.prepare('DELETE FROM skills WHERE name = ?');
  }

  /** Records a reviewed install (or a re-review of an installed one): the new pin and grant replace the old. */
  pin(record: { readonly name: string; readonly kind: SkillKind; readonly contentHash: string; readonly granted: unknown; readonly state: SkillState; readonly source: string }): SkillRecord {
    const now = this.#now();
    this.#upsert.run(record.name, record.kind, record.contentHash, JSON.stringify(record.granted), record.state, record.source, now, now);
    return this.get(record.name) as SkillRecord;
  }

  get(name: string): SkillRecord | undefined {
    const row = this.#get.get(name);
    return row ? toRecord(row) : undefined;
  }

  list(): SkillRecord[] {
    return this.#list.all().map(toRecord);
  }

  setState(name: string, state: SkillState): boolean {
    return this.#setState.run(state, this.#now(), name).changes > 0;
  }

  remove(name: string): boolean {
    return this.#remove.run(name).changes > 0;
  }
}

function toRecord(row: SkillRow): SkillRecord {
  return {
    name: row.name,
    kind: row.kind,
    contentHash: row.content_hash,
    granted: JSON.parse(row.granted_json) as unknown,
    state: row.state,
    source: row.source,
    installedAt: row.installed_at,
    updatedAt: row.updated_at,
  };
}
