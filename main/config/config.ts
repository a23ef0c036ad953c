import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { ConfigSchema, LOOSENING_FIELDS, type Config } from '../common/config-schema.js';
import { findKeyShapedFields } from './key-shapes.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and validates config.json. A missing file means defaults; anything else wrong is a ConfigError. */
export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return ConfigSchema.parse({});
    if (code === 'ENOTDIR') throw new ConfigError(notAFolder(dirname(path)));
    if (code === 'EISDIR') throw new ConfigError(`${path} is a folder, not a file; move it aside (or delete it) to use defaults.`);
    throw new ConfigError(`Cannot read ${path} (${code ?? 'error'}); check its permissions.`);
  }
  return parseConfig(text, path);
}

/** What to do when PAVISE_HOME names a file (or something under one) rather than a folder. */
export function notAFolder(home: string): string {
  return `PAVISE_HOME ${home} is not a folder; point PAVISE_HOME at a folder (or move that file aside).`;
}

export function parseConfig(text: string, path = 'config.json'): Config {
  let raw: unknown;
  try {
    // Notepad and some other editors start a UTF-8 file with a byte-order mark, which JSON.parse refuses.
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON (${(error as Error).message}); fix the syntax or delete the file to use defaults.`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${path} must contain a JSON object such as {"model": {"provider": "anthropic"}}.`);
  }

  const secrets = findKeyShapedFields(raw);
  if (secrets.length > 0) {
    const fields = secrets.map((found) => `${found.path} (${found.kind})`).join(', ');
    throw new ConfigError(
      `${path} contains what looks like a secret in ${fields}. Secrets never go in config.json: remove it and store it ` +
        `in the Keychain with \`pavise secrets set NAME\` (the value is read from stdin, e.g. \`pavise secrets set anthropic\`).`,
    );
  }

  const permissions = (raw as Record<string, unknown>).permissions;
  if (permissions !== null && typeof permissions === 'object') {
    const loosening = LOOSENING_FIELDS.filter((field) => Object.hasOwn(permissions, field));
    if (loosening.length > 0) {
      throw new ConfigError(
        `${path}: permissions.${loosening[0]} is not allowed — config can only tighten the permission gate ` +
          `(permissions.alwaysAsk, permissions.deny). Shell commands, spending, deleting and messages to new recipients ` +
          `always ask. Remove permissions.${loosening[0]}; to stop being asked about one recipient, approve "for 1 hour" in the popover.`,
      );
    }
  }

  const parsed = ConfigSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error.issues, path, raw));
  return parsed.data;
}

function describeIssues(issues: readonly z.core.$ZodIssue[], path: string, raw: unknown): string {
  const lines = issues.map((issue) => {
    const field = issue.path.map(String).join('.') || '(root)';
    // A refinement's input is the object it refines; the field it names is what the owner must look at.
    const input = issue.code === 'custom' ? valueAt(raw, issue.path) : 'input' in issue ? issue.input : undefined;
    const shown = input === undefined ? 'missing' : JSON.stringify(input);
    return `${field} is ${shown}: ${fixFor(issue)}`;
  });
  return `${path} is invalid — ${lines.join('; ')}. Edit the file and try again.`;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function fixFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `use one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'unrecognized_keys':
      return `remove the unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    case 'invalid_format':
      if (issue.format === 'url') return 'expected an http(s) URL such as "http://localhost:11434/v1"';
      // The schema's own words say what to write ("must be an absolute path, e.g. …"); zod's defaults start "Invalid".
      if (!/^Invalid\b/.test(issue.message)) return issue.message;
      if (issue.format === 'email') return 'expected an email address such as "me@example.com"';
      if (issue.format === 'starts_with' && 'prefix' in issue) return `must start with ${JSON.stringify(issue.prefix)}`;
      return issue.message;
    default:
      return issue.message;
  }
}
