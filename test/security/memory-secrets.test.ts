import { afterEach, describe, expect, it } from 'vitest';
import { memoryHandlers } from '../../main/app/handlers/memory.js';
import { ask } from '../helpers/ask.js';
import { openMemoryHome, type MemoryHome } from '../memory/helpers.js';

/**
 * Secrets never rest in the database (invariant 2): every message is stored scrubbed, and an imported history too.
 * A long-term memory is stored text as well, whoever writes it — the owner in the Memory pane, the `remember` tool,
 * extraction — and it goes on to the Memory pane, its exports and every later extraction call.
 */
const API_KEY = 'test-key-not-real';

let home: MemoryHome | undefined;
afterEach(() => {
  home?.close();
  home = undefined;
});

describe('a known secret is never stored in a long-term memory', () => {
  it('added in the Memory pane, it is stored scrubbed; the pane and its export never show it', async () => {
    home = await openMemoryHome();
    const { core } = home;
    const handlers = memoryHandlers({ longTermMemory: core.longTermMemory, memoriesStore: core.memoriesStore });
    const added = await handlers['memory.add']({ text: `My Anthropic key is ${API_KEY}` });
    expect(JSON.stringify(added)).not.toContain(API_KEY);
    expect(core.memoriesStore.list().map((memory) => memory.text)).toEqual(['My Anthropic key is [secret:env:ANTHROPIC_API_KEY]']);
    const listing = await handlers['memory.list']({});
    expect(JSON.stringify(listing)).not.toContain(API_KEY);
    for (const format of ['md', 'jsonl'] as const) expect(JSON.stringify(await handlers['memory.export']({ format }))).not.toContain(API_KEY);
  });

  it('remembered by the tool in the owner’s turn, it is stored scrubbed', async () => {
    home = await openMemoryHome();
    const { core, provider } = home;
    // The model cannot read the key, but may put it together (from the owner's spelling of it, say).
    provider.replies.push(
      () => ({ content: [{ type: 'toolCall', id: 'r1', name: 'remember', input: { text: `The Anthropic key is ${API_KEY.split('').join(' ')}` } }] }),
      () => ({ content: [{ type: 'text', text: 'ok' }] }),
    );
    await ask(core, core.sessions.current('local'), 'Remember my Anthropic key, spelled out.');
    const texts = core.memoriesStore.list().map((memory) => memory.text);
    expect(texts).toHaveLength(1);
    expect(texts[0]?.replace(/\s/g, '')).not.toContain(API_KEY);
  });
});
