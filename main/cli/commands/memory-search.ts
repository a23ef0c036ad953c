import { readFileSync } from 'node:fs';
import { MAX_RECALL_LIMIT, MemoryRecall, type RecallHit } from '../../memory/recall.js';
import { parseCommandArgs } from '../args.js';
import { EXIT, UsageError, type CliIO } from '../io.js';
import { openMemoryHome } from '../memory-home.js';
import { embeddingsRanker } from '../../runtime/memory-embeddings.js';
import { defaultPaviseHome } from '../../config/paths.js';
import { KeychainSecretStore, keychainServiceFor } from '../../secrets/keychain-secret-store.js';

const USAGE = 'search [--json] [--limit N] [--queries FILE] QUERY';
const DEFAULT_LIMIT = 10;

/**
 * `pavise memory search`: recall as the owner sees it. `--json` prints one line per query, exactly
 * `{ "query", "hits": [ { "id", "text", "at", "provenance", "ref": { "channel", "conversation", "guid" } } ] }`.
 * `--queries FILE` asks every non-empty line of FILE in turn.
 */
export async function memorySearchCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'memory',
    args,
    { json: { type: 'boolean', default: false }, limit: { type: 'string' }, queries: { type: 'string' } },
    { min: 0, max: Number.MAX_SAFE_INTEGER, usage: USAGE },
  );
  const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
  if (!/^\d+$/.test(values.limit ?? '1') || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_RECALL_LIMIT) {
    throw new UsageError(`--limit must be a whole number from 1 to ${MAX_RECALL_LIMIT}, not "${values.limit}". Usage: pavise memory ${USAGE}`);
  }
  const queries = [...(positionals.length > 0 ? [positionals.join(' ')] : []), ...(values.queries === undefined ? [] : readQueries(values.queries))];
  if (queries.length === 0) throw new UsageError(`Say what to look for. Usage: pavise memory ${USAGE}`);

  const home = openMemoryHome(io.env);
  try {
    // The Keychain is opened only if an embeddings key is configured and asked for.
    const keychain = () => new KeychainSecretStore(keychainServiceFor(home.paths.home, defaultPaviseHome(io.env)));
    const vectors = await embeddingsRanker(home.config, home.storage.memory, keychain, home.storage.switches);
    const recall = new MemoryRecall({ store: home.storage.memory, ownerName: home.config.owner.name, vectors });
    for (const query of queries) {
      const result = await recall.search(query, { limit });
      if (result.notice) io.stderr.write(`pavise: ${result.notice}\n`);
      io.stdout.write(values.json ? `${JSON.stringify({ query, hits: result.hits.map(toJson) })}\n` : formatHits(query, result.hits, queries.length > 1));
    }
    return EXIT.ok;
  } finally {
    home.storage.close();
  }
}

function readQueries(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--queries: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}); give a text file with one query per line.`);
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** The documented JSON hit: exactly these keys. */
function toJson(hit: RecallHit) {
  return { id: hit.id, text: hit.text, at: new Date(hit.at).toISOString(), provenance: hit.provenance, ref: { channel: hit.ref.channel, conversation: hit.ref.conversation, guid: hit.ref.guid } };
}

/** Remembered text is often someone else's: control characters are shown, never sent to the terminal. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, (char) => `\\u{${char.codePointAt(0)?.toString(16)}}`);
}

function formatHits(query: string, hits: readonly RecallHit[], heading: boolean): string {
  const lines = heading ? [`# ${printable(query)}`] : [];
  if (hits.length === 0) lines.push('Nothing remembered matches that.');
  for (const hit of hits) {
    const when = new Date(hit.at).toISOString().replace('T', ' ').replace(/:\d{2}\.\d{3}Z$/, 'Z');
    const who = hit.fromOwner ? 'you' : (hit.senderName ?? hit.sender);
    const label = hit.provenance.kind === 'owner' ? 'owner' : hit.provenance.kind === 'contact' ? 'contact' : `untrusted: ${hit.provenance.detail ?? hit.provenance.source}`;
    // Not "#id": that is how `memory list` names long-term memories, which `memory show`/`forget` take.
    lines.push(`item ${hit.id} ${when} ${printable(hit.ref.channel)} ${printable(who)} [${printable(label)}]: ${printable(hit.text).replace(/\n/g, '\n    ')}`);
  }
  return `${lines.join('\n')}\n`;
}
