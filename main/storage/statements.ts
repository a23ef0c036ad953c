import type { Database, Statement } from 'better-sqlite3';

/** Prepares each distinct SQL text once for the repository that owns it; later calls reuse the statement. */
export type Prepare = (sql: string) => Statement;

export function preparedOnce(db: Database): Prepare {
  const statements = new Map<string, Statement>();
  return (sql) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
}
