import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OWNER, type Provenance } from '../../main/common/messages.js';
import { LongTermMemories, canSupersede, searchWords, subjectOf } from '../../main/memory/memories.js';
import { effectTarget } from '../../main/permissions/policy.js';
import { openStorage, type Storage } from '../../main/storage/storage.js';

const STRANGER: Provenance = { kind: 'untrusted', source: 'non_owner_sender', detail: 'imessage +15559990000' };
const ALICE: Provenance = { kind: 'contact', contactId: 'imessage:+15550001111' };
const BOB: Provenance = { kind: 'contact', contactId: 'imessage:+15550002222' };

let dir: string;
let storage: Storage;
let memories: LongTermMemories;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-memories-'));
  storage = openStorage(join(dir, 'pavise.db'), { grantTargetOf: effectTarget });
  memories = new LongTermMemories(storage.memories, (work) => storage.transaction(work));
});
afterEach(() => {
  storage.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('subjects and search words', () => {
  it('finds what a fact is about, and nothing for a fact without that shape', () => {
    expect(subjectOf("Mum's birthday is 12 March")).toBe("mum's birthday");
    expect(subjectOf('My sister is called Ada.')).toBe('sister is called');
    expect(subjectOf('My sister is a nurse')).toBe('sister');
    expect(subjectOf('Sam lives in Leeds')).toBe('sam lives in');
    expect(subjectOf('Prefers window seats')).toBeUndefined();
  });

  it('drops short and common words', () => {
    expect(searchWords("What is my sister's name?")).toEqual(['sister', 'name']);
  });
});

describe('who may supersede whom', () => {
  it('the owner replaces anyone; a stranger replaces only untrusted text; a contact only their own words', () => {
    expect(canSupersede(OWNER, STRANGER)).toBe(true);
    expect(canSupersede(OWNER, ALICE)).toBe(true);
    expect(canSupersede(STRANGER, OWNER)).toBe(false);
    expect(canSupersede(ALICE, OWNER)).toBe(false);
    expect(canSupersede(ALICE, BOB)).toBe(false);
    expect(canSupersede(ALICE, ALICE)).toBe(true);
    expect(canSupersede(STRANGER, STRANGER)).toBe(true);
  });
});

describe('LongTermMemories', () => {
  it('a contradicted fact is superseded, not duplicated, and keeps its history', () => {
    const first = memories.remember({ text: "Mum's birthday is 12 March", provenance: OWNER, origin: 'owner' });
    const second = memories.remember({ text: "Mum's birthday is 13 March", provenance: OWNER, origin: 'tool' });
    expect(second.superseded).toEqual([first.memory.id]);
    const current = storage.memories.list();
    expect(current.map((memory) => memory.text)).toEqual(["Mum's birthday is 13 March"]);
    expect(storage.memories.get(first.memory.id)?.supersededBy).toBe(second.memory.id);
    expect(storage.memories.history(second.memory.id).map((memory) => memory.text)).toEqual(["Mum's birthday is 13 March", "Mum's birthday is 12 March"]);
  });

  it('the same fact stated again is one memory with both sources', () => {
    const first = memories.remember({ text: 'Prefers window seats', provenance: OWNER, origin: 'tool', sources: [{ kind: 'message', ref: 's#1' }] });
    const again = memories.remember({ text: '  prefers window seats ', provenance: OWNER, origin: 'extraction', sources: [{ kind: 'message', ref: 's#9' }] });
    expect(again.action).toBe('unchanged');
    expect(again.memory.id).toBe(first.memory.id);
    expect(again.memory.sources.map((source) => source.ref)).toEqual(['s#1', 's#9']);
    expect(storage.memories.list({ includeSuperseded: true })).toHaveLength(1);
  });

  it('a stranger’s contradicting claim never replaces what the owner said: both stay, each with its label', () => {
    const owner = memories.remember({ text: "Mum's phone is +15550003333", provenance: OWNER, origin: 'owner' });
    const poison = memories.remember({ text: "Mum's phone is +15559990000", provenance: STRANGER, origin: 'extraction', replaces: [owner.memory.id] });
    expect(poison.superseded).toEqual([]);
    const current = storage.memories.list();
    expect(current.map((memory) => [memory.text, memory.provenance.kind])).toEqual([
      ["Mum's phone is +15559990000", 'untrusted'],
      ["Mum's phone is +15550003333", 'owner'],
    ]);
    // And the owner's later word replaces the stranger's claim.
    const fixed = memories.remember({ text: "Mum's phone is +15550004444", provenance: OWNER, origin: 'owner' });
    expect([...fixed.superseded].sort()).toEqual([owner.memory.id, poison.memory.id].sort());
  });

  it('the owner stating what a stranger claimed makes it the owner’s; the stranger repeating the owner changes nothing', () => {
    const claim = memories.remember({ text: 'Dinner is at 8', provenance: STRANGER, origin: 'extraction' });
    const owner = memories.remember({ text: 'Dinner is at 8', provenance: OWNER, origin: 'owner' });
    expect(owner.action).toBe('created');
    expect(owner.superseded).toEqual([claim.memory.id]);
    const repeat = memories.remember({ text: 'Dinner is at 8', provenance: STRANGER, origin: 'extraction' });
    expect(repeat.action).toBe('unchanged');
    expect(repeat.memory.provenance).toEqual(OWNER);
  });

  it('finds the memories relevant to a turn by their words, current ones only', () => {
    memories.remember({ text: 'My sister is called Ada', provenance: OWNER, origin: 'tool' });
    memories.remember({ text: 'Prefers window seats on trains', provenance: OWNER, origin: 'tool' });
    memories.remember({ text: 'My sister is called Ada Lovelace', provenance: OWNER, origin: 'tool' });
    expect(memories.relevantTo("what's my sister's name?", 5).map((memory) => memory.text)).toEqual(['My sister is called Ada Lovelace']);
    expect(memories.relevantTo('book me a train', 5).map((memory) => memory.text)).toEqual(['Prefers window seats on trains']);
    // FTS syntax in the text is searched for, never obeyed.
    expect(memories.relevantTo('sister" OR text:* NEAR(', 5).map((memory) => memory.text)).toEqual(['My sister is called Ada Lovelace']);
  });

  it('forgetting a memory deletes every version of it and its sources', () => {
    const first = memories.remember({ text: 'Lives at 1 Old Road', provenance: OWNER, origin: 'owner', sources: [{ kind: 'item', ref: '42' }] });
    const second = memories.remember({ text: 'Lives at 2 New Road', provenance: OWNER, origin: 'owner', replaces: [first.memory.id] });
    expect(memories.forget(second.memory.id)).toBe(2);
    expect(storage.memories.list({ includeSuperseded: true })).toEqual([]);
    expect(memories.relevantTo('road', 5)).toEqual([]);
    expect(memories.forget(second.memory.id)).toBe(0);
  });

  it('refuses empty and oversized memories with a message that says what to do, and stores nothing', () => {
    expect(() => memories.remember({ text: '   ', provenance: OWNER, origin: 'owner' })).toThrow(/needs some text/);
    expect(() => memories.remember({ text: 'x'.repeat(2_001), provenance: OWNER, origin: 'owner' })).toThrow(/Split it into facts/);
    expect(storage.memories.list({ includeSuperseded: true })).toEqual([]);
  });

  it('lists by label and back in time', () => {
    memories.remember({ text: 'Owner fact one', provenance: OWNER, origin: 'owner' });
    memories.remember({ text: 'Stranger claim', provenance: STRANGER, origin: 'extraction' });
    expect(storage.memories.list({ label: 'untrusted' }).map((memory) => memory.text)).toEqual(['Stranger claim']);
    expect(storage.memories.list({ label: 'owner' }).map((memory) => memory.text)).toEqual(['Owner fact one']);
    expect(storage.memories.list({ before: 0 })).toEqual([]);
    expect(() => storage.memories.list({ limit: 0 })).toThrow(/limit must be an integer/);
  });
});
