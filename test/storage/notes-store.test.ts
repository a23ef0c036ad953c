import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../main/storage/database.js';
import { NotesStore } from '../../main/storage/notes-store.js';
import { SessionStore } from '../../main/storage/session-store.js';

let dir: string;
let db: Database;
let clock: number;
let notes: NotesStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-notes-'));
  db = openDatabase(join(dir, 'pavise.db'));
  clock = 1_000;
  notes = new NotesStore(db, { now: () => clock++ });
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('NotesStore labels', () => {
  it('stores a given label and reads it back with the note', () => {
    const label = { kind: 'untrusted', source: 'email', detail: 'from x@evil.test' } as const;
    notes.add('from a mail', undefined, label);
    expect(notes.list()[0]?.provenance).toEqual(label);
    expect(notes.search('mail')[0]?.provenance).toEqual(label);
  });

  it('without a label, a note is as trusted as the least trusted message of the session it was saved from', () => {
    const sessions = new SessionStore(db);
    const clean = sessions.create('local').id;
    const read = sessions.create('local').id;
    sessions.append(clean, { role: 'user', content: 'save a note', provenance: { kind: 'owner' }, timestamp: 1 });
    sessions.append(read, { role: 'user', content: 'what did Al say?', provenance: { kind: 'owner' }, timestamp: 1 });
    sessions.append(read, { role: 'toolResult', toolCallId: 'c', toolName: 'read_messages', content: 'hi', isError: false, provenance: { kind: 'contact', contactId: 'imessage:+1556' }, timestamp: 2 });
    expect(notes.add('clean', clean).provenance).toEqual({ kind: 'owner' });
    expect(notes.add('after a contact', read).provenance).toEqual({ kind: 'contact', contactId: 'imessage:+1556' });
    const stranger = { kind: 'untrusted', source: 'non_owner_sender', detail: 'imessage Mom' } as const;
    sessions.append(read, { role: 'toolResult', toolCallId: 'd', toolName: 'read_messages', content: 'yo', isError: false, provenance: stranger, timestamp: 3 });
    expect(notes.add('after a stranger', read).provenance).toEqual(stranger);
  });
});

describe('NotesStore', () => {
  it('adds notes and lists them newest first', () => {
    const first = notes.add('buy oat milk');
    const second = notes.add('call the plumber');
    expect(first).toEqual({ id: 1, text: 'buy oat milk', createdAt: 1_000, sessionId: undefined, provenance: { kind: 'owner' } });
    expect(notes.list()).toEqual([second, first]);
    expect(notes.list(1)).toEqual([second]);
    expect(() => notes.list(0)).toThrow(RangeError);
  });

  it('records the session a note came from only when that session is stored', () => {
    const session = new SessionStore(db).create('cli');
    expect(notes.add('from the cli', session.id).sessionId).toBe(session.id);
    expect(notes.add('from a session that was never stored', 'ghost').sessionId).toBeUndefined();
  });

  it('searches literally: wildcards and quotes in the query match only themselves', () => {
    notes.add('Sale: 50% off on Friday');
    notes.add('50 things to do');
    notes.add('file_name.txt');
    notes.add('filename.txt');
    notes.add('back\\slash');
    const hostile = notes.add("%'; DROP TABLE notes;--");

    expect(notes.search('50%').map((note) => note.text)).toEqual(['Sale: 50% off on Friday']);
    expect(notes.search('file_').map((note) => note.text)).toEqual(['file_name.txt']);
    expect(notes.search('k\\s').map((note) => note.text)).toEqual(['back\\slash']);
    expect(notes.search('%')).toHaveLength(2);
    expect(notes.search("%'; DROP TABLE notes;--")).toEqual([hostile]);
    expect(notes.search('SALE').map((note) => note.text)).toEqual(['Sale: 50% off on Friday']);
    expect(notes.search('nothing like this')).toEqual([]);
    expect(notes.list(100)).toHaveLength(6);
  });
});
