import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PROVIDER_IDS } from '../../common/config-schema.js';
import type { ProviderId } from '../../common/providers.js';
import { keyShapeOf } from '../../config/key-shapes.js';
import { providerKeyFromEnv, providerKeyVariable } from '../../secrets/env-fallback.js';
import { KeychainSecretStore } from '../../secrets/keychain-secret-store.js';
import type { Audit, Finding, KnownSecret } from './context.js';
import { statOrUndefined } from './files.js';
import { objectField, shellQuote, withArticle } from './text.js';

/** Invariant 2: secrets are in the Keychain, and nowhere else: not in the database, not in log files. */

/** Rows per table scanned for secrets without --deep: the most recent ones. */
export const RECENT_ROWS = 2000;
/** Without --deep, only the tail of a large log file is read. */
const LOG_TAIL_BYTES = 4 * 1024 * 1024;
/** Findings of one kind beyond this are summarized in one extra line. */
const MAX_FINDINGS = 20;
const SCANNED_TABLES = ['messages', 'tool_calls', 'notes', 'activity', 'approvals'] as const;

export async function checkSecretStore(audit: Audit): Promise<Finding> {
  const state = await audit.secrets();
  if (!state.ok) {
    return {
      severity: 'warn',
      message: state.error,
      fix: 'Make the Keychain / Secret Service reachable as the message says, then run `pavise audit` again. Without it Pavise cannot keep API keys or verify its activity log.',
    };
  }
  if (state.unreadable.length > 0) {
    return {
      severity: 'warn',
      message: `The secret store answered, but ${state.unreadable.map((name) => `"${name}"`).join(', ')} could not be read.`,
      fix: 'Unlock the Keychain / Secret Service and allow Pavise to read its items, then run `pavise audit` again.',
    };
  }
  const service = audit.store instanceof KeychainSecretStore ? ` (service "${audit.store.service}")` : '';
  return { severity: 'ok', message: `The secret store is reachable${service}: ${state.names.length} secret${state.names.length === 1 ? '' : 's'} stored.`, fix: '' };
}

export async function checkProviderKey(audit: Audit): Promise<Finding> {
  const { provider, baseURL } = await configuredProvider(audit);
  if (provider === 'openai-compatible') {
    return {
      severity: 'info',
      message: `The model is an OpenAI-compatible server${baseURL ? ` at ${baseURL}` : ''}; it may not need a key.`,
      fix: 'If the server needs a key: `pavise secrets set openai-compatible` (reads stdin).',
    };
  }
  const state = await audit.secrets();
  if (state.ok && state.values.has(provider)) {
    return { severity: 'ok', message: `An API key for ${provider} is stored in the Keychain.`, fix: '' };
  }
  const variable = providerKeyVariable(provider);
  if (providerKeyFromEnv(provider, audit.env)) {
    return { severity: 'ok', message: `The API key for ${provider} comes from ${variable} (the Keychain has none).`, fix: '' };
  }
  return {
    severity: 'warn',
    message: `No API key for ${provider} in the Keychain or ${variable}${state.ok ? '' : ' (the Keychain could not be read)'}: Pavise cannot answer.`,
    fix: `pavise secrets set ${provider}   (paste the key, then Ctrl-D; or pipe it: printf %s "$KEY" | pavise secrets set ${provider})`,
  };
}

async function configuredProvider(audit: Audit): Promise<{ provider: ProviderId; baseURL?: string }> {
  const { config } = audit.config();
  if (config) return { provider: config.model.provider, ...(config.model.baseURL ? { baseURL: config.model.baseURL } : {}) };
  // An invalid config still says which provider it meant; fall back to the default when it does not.
  const model = objectField((await audit.rawConfig()).json, 'model');
  const named = model?.provider;
  const provider = PROVIDER_IDS.find((id) => id === named) ?? 'anthropic';
  return { provider, ...(typeof model?.baseURL === 'string' ? { baseURL: model.baseURL } : {}) };
}

// ---- secrets in the database and logs ---------------------------------------------------------------------------------

export async function checkDatabaseNoSecrets(audit: Audit): Promise<Finding[]> {
  const state = audit.database();
  if (state.kind === 'missing') return [{ severity: 'info', message: 'No database yet, so no secrets in it.', fix: '' }];
  if (state.kind === 'error') {
    return [{ severity: 'warn', message: `The database could not be opened to look for secrets: ${state.message}`, fix: 'Follow the message, then run `pavise audit` again.' }];
  }
  const { db } = state;
  const known = await audit.knownSecrets();
  const present = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name));
  const tables = SCANNED_TABLES.filter((table) => present.has(table));
  const hits: { table: string; id: unknown; what: string[] }[] = [];
  let scanned = 0;
  for (const table of tables) {
    // The table name comes from the fixed list above, never from input; the limit is bound (-1: no limit).
    const statement = db.prepare(`SELECT rowid AS "__audit_rowid", * FROM "${table}" ORDER BY rowid DESC LIMIT ?`);
    for (const row of statement.iterate(audit.deep ? -1 : RECENT_ROWS) as Iterable<Record<string, unknown>>) {
      scanned++;
      const what = new Set<string>();
      for (const [column, value] of Object.entries(row)) {
        if (column === '__audit_rowid' || column === 'mac' || typeof value !== 'string') continue;
        for (const description of secretsIn(value, known)) what.add(description);
      }
      if (what.size > 0) hits.push({ table, id: row.id ?? row.__audit_rowid, what: [...what] });
    }
  }
  const scope = audit.deep ? `all ${scanned} rows` : `the most recent ${RECENT_ROWS.toLocaleString('en-US')} rows per table (${scanned} rows; --deep scans all)`;
  if (hits.length === 0) {
    const compared = (await audit.secrets()).ok ? 'key-shaped strings or stored secret values' : 'key-shaped strings (stored secret values not compared: the Keychain is unreachable)';
    return [{ severity: 'ok', message: `No ${compared} in ${tables.join(', ')}: ${scope}.`, fix: '' }];
  }
  const findings: Finding[] = hits.slice(0, MAX_FINDINGS).map((hit) => ({
    severity: 'critical',
    message: `${hit.table} row ${String(hit.id)} holds ${hit.what.join(' and ')}.`,
    fix: `Rotate that secret at its provider now (it was written to disk in plain text) and store the new one with \`pavise secrets set NAME\`; then ${removalHint(hit.table, hit.id, audit.paths.database)}.`,
  }));
  if (hits.length > MAX_FINDINGS) {
    findings.push({ severity: 'critical', message: `…and ${hits.length - MAX_FINDINGS} more rows with secrets.`, fix: 'Fix the rows above, then run `pavise audit --deep` again.' });
  }
  return findings;
}

function removalHint(table: string, id: unknown, database: string): string {
  const db = shellQuote(database);
  const numeric = typeof id === 'number' && Number.isSafeInteger(id);
  switch (table) {
    case 'notes':
      return numeric ? `delete the note: sqlite3 ${db} "DELETE FROM notes WHERE id = ${id}"` : 'delete that note';
    case 'messages':
    case 'tool_calls':
      return numeric
        ? `delete the conversation it belongs to: sqlite3 ${db} "PRAGMA foreign_keys = ON; DELETE FROM sessions WHERE id = (SELECT session_id FROM ${table} WHERE id = ${id})"`
        : 'delete the conversation it belongs to';
    case 'activity':
      return 'note that the activity log is append-only and HMAC-chained: removing the row breaks its verification, so move pavise.db aside to start afresh if the row must go';
    default:
      return `delete that ${table} row`;
  }
}

export async function checkLogsNoSecrets(audit: Audit): Promise<Finding[]> {
  const logs = join(audit.paths.home, 'logs');
  const info = await statOrUndefined(logs);
  if (!info) return [{ severity: 'ok', message: 'No logs folder, so no secrets in logs.', fix: '' }];
  if (!info.isDirectory()) return [{ severity: 'info', message: `${logs} is not a folder; nothing scanned.`, fix: '' }];
  const known = await audit.knownSecrets();
  const files = await listFiles(logs, 4);
  const hits: { file: string; line?: number; what: string[] }[] = [];
  for (const file of files) {
    const { text, partial } = await readTail(file, audit.deep ? Number.POSITIVE_INFINITY : LOG_TAIL_BYTES);
    text.split('\n').forEach((line, index) => {
      const what = secretsIn(line, known);
      if (what.length > 0) hits.push({ file, ...(partial ? {} : { line: index + 1 }), what });
    });
  }
  if (hits.length === 0) {
    return [{ severity: 'ok', message: `No key-shaped strings or stored secret values in ${files.length} log file${files.length === 1 ? '' : 's'} under ${logs}.`, fix: '' }];
  }
  const findings: Finding[] = hits.slice(0, MAX_FINDINGS).map((hit) => ({
    severity: 'critical',
    message: `${hit.file}${hit.line !== undefined ? ` line ${hit.line}` : ' (near its end)'} holds ${hit.what.join(' and ')}.`,
    fix: `Rotate that secret at its provider and store the new one with \`pavise secrets set NAME\`; then delete the log: rm ${shellQuote(hit.file)}`,
  }));
  if (hits.length > MAX_FINDINGS) findings.push({ severity: 'critical', message: `…and ${hits.length - MAX_FINDINGS} more log lines with secrets.`, fix: `Delete the logs: rm -r ${shellQuote(logs)}` });
  return findings;
}

async function listFiles(folder: string, depth: number): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isFile()) files.push(path);
    else if (entry.isDirectory() && depth > 0) files.push(...(await listFiles(path, depth - 1)));
  }
  return files.sort();
}

async function readTail(path: string, maxBytes: number): Promise<{ text: string; partial: boolean }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return { text: buffer.toString('utf8'), partial: length < size };
  } finally {
    await handle.close();
  }
}

/** Descriptions (never values) of the secrets a text holds. */
export function secretsIn(text: string, known: readonly KnownSecret[]): string[] {
  const found: string[] = [];
  for (const secret of known) if (secret.needles.some((needle) => text.includes(needle))) found.push(secret.label);
  const shape = keyShapeOf(text);
  if (shape !== undefined) found.push(`a string shaped like ${withArticle(shape)}`);
  return found;
}

export function linesWithKeyShapes(text: string): { line: number; kind: string }[] {
  return text.split('\n').flatMap((line, index) => {
    const kind = keyShapeOf(line);
    return kind ? [{ line: index + 1, kind }] : [];
  });
}

export function lineOf(text: string, needles: readonly string[]): number | undefined {
  const index = text.split('\n').findIndex((line) => needles.some((needle) => line.includes(needle)));
  return index < 0 ? undefined : index + 1;
}
