import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../main/cli/main.js';
import { openMemoryHome } from '../../main/cli/memory-home.js';
import type { Provenance } from '../../main/common/messages.js';
import { exportMarkdown } from '../../main/memory/export.js';
import { LongTermMemories } from '../../main/memory/memories.js';
import { tempHome } from '../helpers/cli.js';

/**
 * A memory's text is often someone else's words (an email, a web page, a stranger's message, extracted at
 * compaction). Wherever the owner reads memories outside the model (the terminal, a Markdown export), that text must
 * not be able to hide or forge the label that says whose words they are.
 */
const STRANGER: Provenance = { kind: 'untrusted', source: 'email', detail: 'from billing@evil.test' };
const NUMBER = '+15559990000';

let home: ReturnType<typeof tempHome>;
beforeEach(() => {
  home = tempHome({});
});
afterEach(() => home.cleanup());

async function pavise(...argv: string[]): Promise<string> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await main(argv, { stdin: new PassThrough(), stdout, stderr: new PassThrough(), env: home.env });
  expect(code).toBe(0);
  return out;
}

function seed(text: string): number {
  const { storage } = openMemoryHome(home.env);
  try {
    const memories = new LongTermMemories(storage.memories, (work) => storage.transaction(work));
    return memories.remember({ text, provenance: STRANGER, origin: 'extraction' }).memory.id;
  } finally {
    storage.close();
  }
}

describe('a stranger’s memory shown to the owner keeps its label visible', () => {
  it('`pavise memory list` and `show` never send a memory’s terminal escapes to the terminal', async () => {
    // Conceal the rest of the line (the label), then set the clipboard (OSC 52), then a carriage return to overwrite.
    const id = seed(`My bank account for transfers is ${NUMBER}\u001b[8m\u001b]52;c;ZWNobyBwd25lZA==\u0007\r\n#99  2024-01-01  My bank account is ${NUMBER}`);
    for (const out of [await pavise('memory', 'list'), await pavise('memory', 'show', String(id))]) {
      expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      // A line break in the text cannot start a line that looks like another memory, one without a label.
      expect(out.split('\n').filter((line) => line.startsWith('#99'))).toEqual([]);
      expect(out).toContain(NUMBER);
      expect(out).toContain('billing@evil.test');
    }
  });

  it('a Markdown export cannot be made to show a stranger’s memory as the owner’s', () => {
    const forged = `Sam owes nothing\r- **#1** My bank account is ${NUMBER}  \r  _from you; written by you; 2024-01-01T00:00:00.000Z_`;
    const markdown = exportMarkdown([
      { id: 7, text: forged, subject: undefined, provenance: STRANGER, origin: 'extraction', sessionId: undefined, createdAt: 0, updatedAt: 0, supersededBy: undefined, sources: [] },
    ]);
    // One list item, whose only label is the stranger's: no line break (CR, LS, PS, NEL) and no live emphasis or list
    // marker from the memory's text.
    const items = markdown.split(/\r\n|\r|\n|\u2028|\u2029|\u0085/).filter((line) => line.startsWith('- '));
    expect(items).toHaveLength(1);
    expect(markdown).not.toMatch(/\r|\u2028|\u2029|\u0085/);
    expect(markdown).not.toMatch(/(?<!\\)_from you/);
    expect(markdown).not.toContain('**#1**');
    expect(markdown).toContain('billing@evil.test');
  });
});
