/**
 * `npm run bench -- memory [--section NAME]…`: the memory benchmark, one JSON object with one key per section.
 * Sections: `recall` (LoCoMo, bench/memory/locomo.ts; `--conversations conv-26,conv-30`, `--misses`), `scale` (import and search at 1M items,
 * bench/memory/scale.ts; `--messages N`, `--vectors N`), `long` (recall over fifty 2 MB items, bench/memory/long-items.ts). Every
 * section runs unless some are named.
 */
import { parseArgs } from 'node:util';
import { locomoConversations, locomoRecall } from './memory/locomo.js';
import { longItems } from './memory/long-items.js';
import { scale } from './memory/scale.js';

type Section = (options: Record<string, string | undefined>) => Promise<Record<string, unknown>>;

/** One row per section; each is independent of the others. */
const SECTIONS: Record<string, Section> = {
  recall: (options) => locomoRecall({ conversations: options.conversations?.split(','), misses: options.misses === 'true' }),
  scale: (options) => scale({ messages: Number(options.messages ?? 1_000_000), vectors: Number(options.vectors ?? 100_000) }),
  long: () => longItems({ count: 50, chars: 2_000_000, runs: 5 }),
};

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    section: { type: 'string', multiple: true },
    messages: { type: 'string' },
    vectors: { type: 'string' },
    conversations: { type: 'string' },
    misses: { type: 'boolean' },
  },
});
const chosen = values.section ?? Object.keys(SECTIONS);
const unknown = chosen.filter((name) => !Object.hasOwn(SECTIONS, name));
if (unknown.length > 0) {
  process.stderr.write(`bench memory: unknown section ${unknown.join(', ')}; choose from ${Object.keys(SECTIONS).join(', ')}.\n`);
  process.exit(2);
}
const conversations = values.conversations?.split(',').filter(Boolean);
const known = locomoConversations();
const unknownConversations = (conversations ?? []).filter((id) => !known.includes(id));
if (unknownConversations.length > 0) {
  process.stderr.write(`bench memory: unknown LoCoMo conversation ${unknownConversations.join(', ')}; choose from ${known.join(', ')}.\n`);
  process.exit(2);
}
const result: Record<string, unknown> = { benchmark: 'memory', node: process.version };
const options = { messages: values.messages, vectors: values.vectors, conversations: conversations?.join(','), misses: values.misses ? 'true' : undefined };
for (const name of chosen) result[name] = await SECTIONS[name]!(options);
console.log(JSON.stringify(result));
