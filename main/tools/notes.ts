import { z } from 'zod';
import { weakest } from '../common/labels.js';
import type { Provenance } from '../common/messages.js';
import { defineTool, type Tool } from './tool.js';

export interface NoteLike {
  readonly id: number;
  readonly text: string;
  readonly createdAt: number;
  /** Who the note's text came from; a store without labels leaves it out, and the note counts as the owner's. */
  readonly provenance?: Provenance;
}

/** What the note tools need from storage; the caller injects it (the memory module's NotesStore fits). */
export interface NotesLike {
  add(text: string, sessionId?: string): NoteLike | Promise<NoteLike>;
  list(limit?: number): readonly NoteLike[] | Promise<readonly NoteLike[]>;
  search(query: string, limit?: number): readonly NoteLike[] | Promise<readonly NoteLike[]>;
}

const DEFAULT_LIMIT = 20;

const saveNoteInput = z.object({
  text: z
    .string()
    .min(1)
    .max(10_000)
    .refine((text) => text.trim().length > 0, 'A note needs some text, not only white space.')
    .describe('The note, as the owner should read it later.'),
});

const listNotesInput = z.object({
  query: z.string().min(1).max(200).optional().describe('Only notes containing this text (not case-sensitive).'),
  limit: z.int().min(1).max(100).optional().describe(`How many notes, newest first; default ${DEFAULT_LIMIT}.`),
});

export type SaveNoteInput = z.infer<typeof saveNoteInput>;
export type ListNotesInput = z.infer<typeof listNotesInput>;

/** `save_note` (writes locally) and `list_notes` (reads private data), over the injected store. */
export function createNoteTools(notes: NotesLike): readonly [Tool<SaveNoteInput>, Tool<ListNotesInput>] {
  const saveNote = defineTool({
    name: 'save_note',
    description: 'Save a note for the owner to find later.',
    input: saveNoteInput,
    // Whole, never cut: the approval shows exactly what would be saved (a hidden tail could carry anything).
    effects: [{ kind: 'write_local', what: { template: 'Save a note: "{text}"' } }],
    summary: 'Save a note: "{text}"',
    output: { kind: 'trigger' },
    execute: async ({ text }, { sessionId }) => {
      const note = await notes.add(text, sessionId);
      return `Saved note #${note.id}.`;
    },
  });
  const listNotes = defineTool({
    name: 'list_notes',
    description: "List the owner's saved notes, newest first, optionally only those containing some text.",
    input: listNotesInput,
    effects: [{ kind: 'read_private', what: { template: 'your notes' } }],
    summary: ['Search your notes for "{query}"[ (up to {limit})]', 'List your notes[ (up to {limit})]'],
    output: { kind: 'trigger' },
    execute: async ({ query, limit = DEFAULT_LIMIT }) => {
      const found = query === undefined ? await notes.list(limit) : await notes.search(query, limit);
      if (found.length === 0) return query === undefined ? 'There are no notes yet.' : 'No notes contain that text.';
      const content = JSON.stringify(found.map((note) => ({ id: note.id, savedAt: new Date(note.createdAt).toISOString(), text: note.text })));
      // The result is as trusted as the least trusted note in it: a note saved from a stranger's text stays theirs.
      // Owner-only results keep the default label (the trigger's), which is never stronger than the turn.
      const label = weakest(found.map((note) => note.provenance));
      return label.kind === 'owner' ? content : { content, provenance: label };
    },
  });
  return [saveNote, listNotes];
}
