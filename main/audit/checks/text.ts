import { keyShapeOf } from '../../config/key-shapes.js';

export const MIN_SECRET_LENGTH = 8;

export interface KnownSecret {
  /** How a finding names it: `the stored secret "anthropic"`, `the value of ANTHROPIC_API_KEY`. */
  readonly label: string;
  readonly value: string;
  /** The value as is and as it appears inside a JSON string. */
  readonly needles: readonly string[];
}

/** Wording shared by the checks' findings; nothing here reads anything. */

export function objectField(value: unknown, key: string): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return field !== null && typeof field === 'object' && !Array.isArray(field) ? (field as Record<string, unknown>) : undefined;
}

export function withArticle(kind: string): string {
  return `${/^[AEIOU]/i.test(kind) ? 'an' : 'a'} ${kind}`;
}

/** An error's message as one line; used for errors echoed in a finding. */
export function errorSentence(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim() || 'unknown error';
}

/** Replaces key-shaped words and known secret values; if anything key-shaped survives, the text is withheld. */
export function redactKeyShapes(text: string, known: readonly KnownSecret[]): string {
  const withoutValues = redactValues(text, known.flatMap((secret) => secret.needles));
  const redacted = withoutValues.replace(/[^\s"'`,;()[\]{}<>]+/g, (word) => (keyShapeOf(word) === undefined ? word : '[redacted]'));
  return keyShapeOf(redacted) === undefined ? redacted : 'The details are withheld because they contain what looks like a secret.';
}

export function redactValues(text: string, needles: readonly string[]): string {
  let result = text;
  for (const needle of needles) if (needle.length >= MIN_SECRET_LENGTH) result = result.split(needle).join('[redacted]');
  return result;
}

/** A path as a POSIX shell word, for fixes the owner pastes. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_/.,:@%+=-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
