import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../main/storage/database.js';
import { NotesStore } from '../../main/storage/notes-store.js';
import { SessionStore } from '../../main/storage/session-store.js';
import { createNoteTools, type NotesLike } from '../../main/tools/notes.js';
import type { Tool } from '../../main/tools/tool.js';
import { registryOf, titleOf } from '../helpers/tool-source.js';

let dir: string;
let db: Database;
let store: NotesStore;
let sessionId: string;
let clock: number;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-note-tools-'));
  db = openDatabase(join(dir, 'pavise.db'));
  clock = Date.UTC(2024, 0, 2, 3, 4, 5);
  store = new NotesStore(db, { now: () => clock++ });
  sessionId = new SessionStore(db).create('cli').id;
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a tool the way the agent does: the raw model input goes through the zod schema first. */
async function call<I>(tool: Tool<I>, raw: unknown): Promise<string> {
  const parsed = tool.input.safeParse(raw);
  if (!parsed.success) throw new Error(`schema rejected: ${parsed.error.message}`);
  const output = await tool.execute(parsed.data, { sessionId, callId: 'call_1', signal: new AbortController().signal });
  return typeof output === 'string' ? output : output.content;
}

describe('note tools', () => {
  it('declare their effects and register', async () => {
    const [saveNote, listNotes] = createNoteTools(store);
    expect(saveNote.name).toBe('save_note');
    expect(saveNote.effects.map((effect) => effect.kind)).toEqual(['write_local']);
    expect(listNotes.name).toBe('list_notes');
    expect(listNotes.effects.map((effect) => effect.kind)).toEqual(['read_private']);
    const specs = (await registryOf(saveNote, listNotes)).specs();
    expect(specs.map((spec) => spec.inputSchema)).toMatchObject([
      { properties: { text: { type: 'string', minLength: 1, maxLength: 10_000 } }, required: ['text'] },
      { properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 100 } } },
    ]);
  });

  it('save a note with its session and list it back', async () => {
    const [saveNote, listNotes] = createNoteTools(store);
    expect(await call(saveNote, { text: 'Dentist on Tuesday\nbring the forms' })).toBe('Saved note #1.');
    expect(store.list()[0]?.sessionId).toBe(sessionId);

    expect(JSON.parse(await call(listNotes, {}))).toEqual([
      { id: 1, savedAt: '2024-01-02T03:04:05.000Z', text: 'Dentist on Tuesday\nbring the forms' },
    ]);
  });

  it('reject invalid input in the schema', () => {
    const [saveNote, listNotes] = createNoteTools(store);
    for (const bad of [{}, { text: '' }, { text: '   \n ' }, { text: 42 }, { text: 'x'.repeat(10_001) }, null]) {
      expect(saveNote.input.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(saveNote.input.safeParse({ text: 'x'.repeat(10_000) }).success).toBe(true);
    for (const bad of [{ limit: 0 }, { limit: 101 }, { limit: 2.5 }, { limit: '5' }, { query: '' }, { query: 7 }]) {
      expect(listNotes.input.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(listNotes.input.safeParse({ query: 'milk', limit: 100 }).success).toBe(true);
  });

  it('store SQL-looking text literally and find it by a literal search', async () => {
    const [saveNote, listNotes] = createNoteTools(store);
    const hostile = "%'; DROP TABLE notes;--";
    await call(saveNote, { text: 'an ordinary note' });
    await call(saveNote, { text: hostile });
    await call(saveNote, { text: '100% sure' });

    expect(JSON.parse(await call(listNotes, { query: hostile }))).toEqual([
      expect.objectContaining({ text: hostile }),
    ]);
    expect(JSON.parse(await call(listNotes, { query: '%' })).map((note: { text: string }) => note.text)).toEqual([
      '100% sure',
      hostile,
    ]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM notes').get()).toEqual({ n: 3 });
  });

  it('list newest first, honour the limit, and say when nothing matches', async () => {
    const [saveNote, listNotes] = createNoteTools(store);
    expect(await call(listNotes, {})).toBe('There are no notes yet.');
    for (const text of ['one', 'two', 'three']) await call(saveNote, { text });

    expect(JSON.parse(await call(listNotes, { limit: 2 })).map((note: { text: string }) => note.text)).toEqual(['three', 'two']);
    expect(await call(listNotes, { query: 'four' })).toBe('No notes contain that text.');
  });

  it('describe a call with its whole content, never cut (the approval shows exactly what would be saved)', async () => {
    const [saveNote, listNotes] = createNoteTools(store);
    expect(await titleOf(saveNote as Tool, { text: 'Dentist\non Tuesday' })).toBe('Save a note: "Dentist\non Tuesday"');
    const long = await titleOf(saveNote as Tool, { text: `${'a'.repeat(500)} +15550001111` });
    expect(long).toBe(`Save a note: "${'a'.repeat(500)} +15550001111"`);
    expect(await titleOf(listNotes as Tool, {})).toBe('List your notes');
    expect(await titleOf(listNotes as Tool, { query: 'milk', limit: 5 })).toBe('Search your notes for "milk" (up to 5)');
  });

  it('work over any NotesLike, including an asynchronous one', async () => {
    const saved: string[] = [];
    const fake: NotesLike = {
      add: async (text) => {
        saved.push(text);
        return { id: saved.length, text, createdAt: 0 };
      },
      list: async () => saved.map((text, index) => ({ id: index + 1, text, createdAt: 0 })),
      search: async () => [],
    };
    const [saveNote, listNotes] = createNoteTools(fake);
    expect(await call(saveNote, { text: 'kept in memory' })).toBe('Saved note #1.');
    expect(JSON.parse(await call(listNotes, {}))).toEqual([{ id: 1, savedAt: '1970-01-01T00:00:00.000Z', text: 'kept in memory' }]);
  });
});
