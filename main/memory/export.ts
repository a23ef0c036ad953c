import { describeLabel, ORIGIN_WORDS } from '../common/memory-view.js';
import type { Memory } from '../storage/memories-store.js';

/** Every memory as Markdown for the owner: current ones first, then the ones that were replaced. */
export function exportMarkdown(memories: readonly Memory[]): string {
  const current = memories.filter((memory) => memory.supersededBy === undefined);
  const replaced = memories.filter((memory) => memory.supersededBy !== undefined);
  const item = (memory: Memory): string =>
    `- **#${memory.id}** ${memory.text.replace(/\n/g, ' ')}  \n  _from ${describeLabel(memory.provenance)}; ${ORIGIN_WORDS[memory.origin]}; ${new Date(memory.updatedAt).toISOString()}_` +
    (memory.supersededBy !== undefined ? `; replaced by #${memory.supersededBy}` : '');
  return [
    '# Pavise memories',
    '',
    `Exported ${new Date().toISOString()}: ${current.length} current, ${replaced.length} replaced.`,
    '',
    '## Current',
    '',
    ...(current.length > 0 ? current.map(item) : ['(none)']),
    '',
    ...(replaced.length > 0 ? ['## Replaced', '', ...replaced.map(item), ''] : []),
  ].join('\n');
}
