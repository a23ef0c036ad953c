import { describeLabel, ORIGIN_WORDS } from '../common/memory-view.js';
import { revealInvisible } from '../common/visible-text.js';
import type { Memory } from '../storage/memories-store.js';

/** Every memory as Markdown for the owner: current ones first, then the ones that were replaced. */
export function exportMarkdown(memories: readonly Memory[]): string {
  const current = memories.filter((memory) => memory.supersededBy === undefined);
  const replaced = memories.filter((memory) => memory.supersededBy !== undefined);
  const item = (memory: Memory): string =>
    `- **#${memory.id}** ${inline(memory.text)}  \n  _from ${inline(describeLabel(memory.provenance))}; ${ORIGIN_WORDS[memory.origin]}; ${new Date(memory.updatedAt).toISOString()}_` +
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

/**
 * Someone else's words as inert Markdown on one line: every line break (CR, LS and PS too) becomes a space, other
 * control and invisible characters are shown, and the characters of inline Markdown (emphasis, code, links, HTML,
 * entities) are escaped, so a memory cannot start another item or forge the label after it.
 */
function inline(text: string): string {
  return revealInvisible(text.replace(/\r\n|[\n\r\u0085\u2028\u2029]/g, ' ')).replace(/[\\`*_[\]()<>|~!&]/g, '\\$&');
}
