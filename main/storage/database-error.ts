export type DatabaseErrorCode = 'locked' | 'corrupt' | 'newer_schema' | 'io';

/** Why the Pavise database could not be opened; `message` is one sentence that says what to do. */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';

  constructor(
    readonly code: DatabaseErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
