import { describeLabel, ORIGIN_WORDS } from '../../common/memory-view.js';
import { revealInvisible } from '../../common/visible-text.js';
import { OWNER } from '../../common/messages.js';
import { LongTermMemories } from '../../memory/memories.js';
import { exportMarkdown } from '../../memory/export.js';
import { toMemoryView } from '../../memory/view.js';
import type { Memory } from '../../storage/memories-store.js';
import { parseCommandArgs } from '../args.js';
import { EXIT, UsageError, type CliIO } from '../io.js';
import { openMemoryHome, secretScrubber } from '../memory-home.js';

/** `pavise memory list | show | forget | export | add`: the owner's long-term memories, read and changed directly. */

const LABELS = ['owner', 'contact', 'untrusted'] as const;

function withHome<T>(io: CliIO, work: (home: ReturnType<typeof openMemoryHome>) => T): T {
  const home = openMemoryHome(io.env);
  try {
    return work(home);
  } finally {
    home.storage.close();
  }
}

function memoryId(raw: string | undefined, usage: string): number {
  const match = /^#?(\d{1,15})$/.exec(raw ?? '');
  const id = match ? Number(match[1]) : 0;
  if (id < 1) throw new UsageError(`Give a memory number, e.g. 12 (see \`pavise memory list\`), not "${raw}". Usage: pavise memory ${usage}`);
  return id;
}

/**
 * A memory's words are often someone else's: terminal escapes and invisible characters are shown, never sent to the
 * terminal, and a line break continues indented, so the text cannot hide its label or pose as another memory.
 */
function printable(text: string): string {
  return revealInvisible(text).replace(/\n/g, '\n    ');
}

function line(memory: Memory): string {
  const date = new Date(memory.updatedAt).toISOString().slice(0, 10);
  const from = memory.provenance.kind === 'owner' ? '' : `  [from ${printable(describeLabel(memory.provenance))}]`;
  const old = memory.supersededBy !== undefined ? `  (replaced by #${memory.supersededBy})` : '';
  return `#${memory.id}  ${date}  ${printable(memory.text)}${from}${old}\n`;
}

const LIST_USAGE = 'list [--json] [--all] [--label owner|contact|untrusted] [--limit N]';

export async function memoryListCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(
    'memory',
    args,
    { json: { type: 'boolean', default: false }, all: { type: 'boolean', default: false }, label: { type: 'string' }, limit: { type: 'string' } },
    { min: 0, max: 0, usage: LIST_USAGE },
  );
  const label = values.label;
  if (label !== undefined && !(LABELS as readonly string[]).includes(label)) {
    throw new UsageError(`--label must be owner, contact or untrusted, not "${label}". Usage: pavise memory ${LIST_USAGE}`);
  }
  const limit = values.limit === undefined ? 1000 : Number(values.limit);
  if (!/^\d+$/.test(values.limit ?? '1') || limit < 1 || limit > 10_000) {
    throw new UsageError(`--limit must be a whole number from 1 to 10000, not "${values.limit}". Usage: pavise memory ${LIST_USAGE}`);
  }
  return withHome(io, (home) => {
    const memories = home.storage.memories.list({ includeSuperseded: values.all, limit, ...(label ? { label: label as (typeof LABELS)[number] } : {}) });
    if (values.json) io.stdout.write(`${JSON.stringify(memories.map(toMemoryView))}\n`);
    else if (memories.length === 0) io.stdout.write('No memories yet. Pavise remembers facts you tell it; `pavise memory add TEXT` adds one.\n');
    else for (const memory of memories) io.stdout.write(line(memory));
    return EXIT.ok;
  });
}

export async function memoryShowCommand(args: string[], io: CliIO): Promise<number> {
  const usage = 'show ID [--json]';
  const { values, positionals } = parseCommandArgs('memory', args, { json: { type: 'boolean', default: false } }, { min: 1, max: 1, usage });
  const id = memoryId(positionals[0], usage);
  return withHome(io, (home) => {
    const memory = home.storage.memories.get(id);
    if (!memory) {
      io.stderr.write(`pavise: there is no memory #${id}; \`pavise memory list --all\` shows them all.\n`);
      return EXIT.failure;
    }
    const history = home.storage.memories.history(id).filter((version) => version.id !== id);
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ ...toMemoryView(memory), history: history.map(toMemoryView) })}\n`);
      return EXIT.ok;
    }
    const out = [
      `Memory #${memory.id}: ${printable(memory.text)}`,
      `From: ${printable(describeLabel(memory.provenance))}`,
      `How: ${ORIGIN_WORDS[memory.origin]}`,
      `Created: ${new Date(memory.createdAt).toISOString()}  Updated: ${new Date(memory.updatedAt).toISOString()}`,
      ...(memory.supersededBy !== undefined ? [`Replaced by: #${memory.supersededBy}`] : []),
      `Sources: ${memory.sources.length === 0 ? 'none recorded' : memory.sources.map((source) => `${source.kind} ${printable(source.ref)}`).join(', ')}`,
      ...(history.length > 0 ? ['Earlier versions:', ...history.map((version) => `  ${line(version).trimEnd()}`)] : []),
    ];
    io.stdout.write(`${out.join('\n')}\n`);
    return EXIT.ok;
  });
}

export async function memoryForgetCommand(args: string[], io: CliIO): Promise<number> {
  const usage = 'forget ID';
  const { positionals } = parseCommandArgs('memory', args, {}, { min: 1, max: 1, usage });
  const id = memoryId(positionals[0], usage);
  return withHome(io, (home) => {
    const count = home.storage.memories.forget(id);
    if (count === 0) {
      io.stderr.write(`pavise: there is no memory #${id}; nothing was forgotten.\n`);
      return EXIT.failure;
    }
    io.stdout.write(`Forgot memory #${id}${count > 1 ? ` and ${count - 1} earlier version(s)` : ''}. The messages it came from stay in your history.\n`);
    return EXIT.ok;
  });
}

export async function memoryAddCommand(args: string[], io: CliIO): Promise<number> {
  const usage = 'add TEXT';
  const { positionals } = parseCommandArgs('memory', args, {}, { min: 1, max: Number.MAX_SAFE_INTEGER, usage });
  // Scrubbed of known secrets like every other memory write (LongTermMemories' redact).
  const broker = await secretScrubber(io.env);
  return withHome(io, (home) => {
    const memories = new LongTermMemories(home.storage.memories, (work) => home.storage.transaction(work), (text) => broker.redact(text));
    let outcome;
    try {
      outcome = memories.remember({ text: positionals.join(' '), provenance: OWNER, origin: 'owner' });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    const replaced = outcome.superseded.length > 0 ? ` It replaces ${outcome.superseded.map((id) => `#${id}`).join(', ')}.` : '';
    io.stdout.write(outcome.action === 'unchanged' ? `Already remembered as #${outcome.memory.id}.\n` : `Remembered as #${outcome.memory.id}.${replaced}\n`);
    return EXIT.ok;
  });
}

export async function memoryExportCommand(args: string[], io: CliIO): Promise<number> {
  const usage = 'export [--format jsonl|md]';
  const { values } = parseCommandArgs('memory', args, { format: { type: 'string', default: 'jsonl' } }, { min: 0, max: 0, usage });
  if (values.format !== 'jsonl' && values.format !== 'md') throw new UsageError(`--format must be jsonl or md, not "${values.format}". Usage: pavise memory ${usage}`);
  return withHome(io, (home) => {
    const memories = home.storage.memories.list({ includeSuperseded: true, limit: 10_000 });
    io.stdout.write(values.format === 'jsonl' ? memories.map((memory) => `${JSON.stringify(toMemoryView(memory))}\n`).join('') : exportMarkdown(memories));
    return EXIT.ok;
  });
}
