import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MemoryItemInput } from '../../main/storage/memory-store.js';
import { OWNER_WORD } from '../../main/storage/memory-store.js';
import { openStorage, type Storage } from '../../main/storage/storage.js';

let dir: string;
let storage: Storage;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-memstore-'));
  storage = openStorage(join(dir, 'pavise.db'), { grantTargetOf: () => '' });
});
afterEach(() => {
  storage.close();
  rmSync(dir, { recursive: true, force: true });
});

function item(guid: string, text: string, fields: Partial<MemoryItemInput> = {}): MemoryItemInput {
  return {
    kind: 'message',
    channel: 'imessage',
    conversation: 'iMessage;+;chat42',
    conversationName: 'Allotment crew',
    guid,
    sender: '+15550001111',
    senderName: 'Sam Weller',
    fromOwner: false,
    isGroup: true,
    text,
    at: Date.UTC(2024, 0, 1),
    provenance: { kind: 'untrusted', source: 'non_owner_sender', detail: 'imessage group iMessage;+;chat42: Sam Weller (+15550001111)' },
    ...fields,
  };
}

const ids = (match: string) => storage.memory.textSearch(match, { limit: 100 }).map((hit) => hit.id).sort((a, b) => a - b);
const ftsRows = () => (storage.pairingDatabase.prepare('SELECT count(*) AS n FROM memory_fts').get() as { n: number }).n;

describe('MemoryStore ingest indexing', () => {
  it('indexes each new item once by its words, who said it and where, and a repeated guid not at all', () => {
    expect(storage.memory.ingest([item('G1', 'parsnips in the raised bed'), item('G2', 'rhubarb by the shed')])).toBe(2);
    // G1 again (a re-import) and a new owner item in the same batch: only the new one is stored and indexed.
    expect(storage.memory.ingest([item('G1', 'parsnips in the raised bed'), item('G3', 'bring the twine', { sender: 'robin@example.com', senderName: undefined, fromOwner: true, provenance: { kind: 'owner' } })])).toBe(1);
    expect(storage.memory.count()).toBe(3);
    expect(ftsRows()).toBe(3);
    const [g1, g2, g3] = ['G1', 'G2', 'G3'].map((guid) => storage.memory.getMany(ids('parsnip OR rhubarb OR twine')).find((found) => found.guid === guid)!.id);
    expect(ids('"parsnip"')).toEqual([g1]);
    expect(ids('who : "weller"')).toEqual([g1, g2]);
    expect(ids(`who : "${OWNER_WORD}"`)).toEqual([g3]);
    expect(ids('place : "allotment"')).toEqual([g1, g2, g3]);
  });

  it('indexes new items above a gap left by a forgotten newest item, and never re-indexes the survivors', () => {
    storage.memory.ingest([item('G1', 'first apple'), item('G2', 'second apple')]);
    const newest = ids('"apple"').at(-1)!;
    storage.pairingDatabase.prepare('DELETE FROM memory_items WHERE id = ?').run(newest);
    expect(ftsRows()).toBe(1);
    storage.memory.ingest([item('G3', 'third apple')]);
    expect(ftsRows()).toBe(2);
    expect(storage.memory.getMany(ids('"apple"')).map((found) => found.text)).toEqual(['first apple', 'third apple']);
  });

  it('stores a batch and its import checkpoint together, and the same batch again adds nothing', () => {
    const batch = [item('G1', 'quince jelly'), item('G2', 'medlar jelly')];
    expect(storage.memory.ingestBatch('imessage:/chat.db', batch, 7)).toBe(2);
    expect(storage.memory.ingestBatch('imessage:/chat.db', batch, 9)).toBe(0);
    expect(storage.memory.checkpoint('imessage:/chat.db')).toEqual({ lastRowid: 9, imported: 2 });
    expect(ids('"jelly"')).toHaveLength(2);
    expect(ftsRows()).toBe(2);
  });

  it('gives a bulk import a larger page cache and write-ahead log and restores the usual ones after, also when the import fails', async () => {
    const cacheSize = () => storage.pairingDatabase.pragma('cache_size', { simple: true }) as number;
    const walPages = () => storage.pairingDatabase.pragma('wal_autocheckpoint', { simple: true }) as number;
    const usual = { cache: cacheSize(), wal: walPages() };
    let during = { cache: 0, wal: 0 };
    await storage.memory.withBulkImport(async () => {
      during = { cache: cacheSize(), wal: walPages() };
    });
    expect(during.cache).toBeLessThan(usual.cache);
    expect(-during.cache * 1024).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    expect(during.wal).toBeGreaterThan(usual.wal);
    expect({ cache: cacheSize(), wal: walPages() }).toEqual(usual);
    await expect(
      storage.memory.withBulkImport(async () => {
        throw new Error('chat.db vanished');
      }),
    ).rejects.toThrow('chat.db vanished');
    expect({ cache: cacheSize(), wal: walPages() }).toEqual(usual);
  });
});

describe('MemoryStore textSearch with common words', () => {
  const at = (index: number) => Date.UTC(2024, 0, 1) + index * 60_000;
  // 5,200 items say "weather" (over the 5,000 that make a word common), every 20th of them "tomato" too; 100 long
  // items say only "tomato"; 10,000 say neither, so that "weather" still weighs something in bm25.
  beforeEach(() => {
    const items = Array.from({ length: 5_200 }, (_, index) => item(`W${index}`, index % 20 === 0 ? 'tomato weather' : 'weather weather', { at: at(index) }));
    for (let index = 0; index < 100; index++) items.push(item(`T${index}`, `tomato ${'in the long bed by the shed '.repeat(8)}`, { at: at(6_000 + index) }));
    for (let index = 0; index < 10_000; index++) items.push(item(`F${index}`, 'the garden', { at: at(7_000 + index) }));
    storage.memory.ingest(items);
  });

  const withTomato = () => new Set(storage.memory.textSearch('"tomato"', { limit: 10_000 }).map((hit) => hit.id));

  it('ranks the items with a rare word by their exact bm25 for the whole query, leaving out those with only the common word', () => {
    const tomato = withTomato();
    expect(tomato.size).toBe(360);
    const whole = storage.memory.textSearch('"weather" OR "tomato"', { limit: 10_000 });
    // Ranked whole, items saying only "weather weather" beat the long ones saying only "tomato".
    expect(whole.slice(0, 300).some((hit) => !tomato.has(hit.id))).toBe(true);
    const expected = whole.filter((hit) => tomato.has(hit.id)).slice(0, 300);
    const got = storage.memory.textSearch({ anyOf: ['"weather"', '"tomato"'] }, { limit: 300 });
    expect(got.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
    got.forEach((hit, index) => expect(hit.score).toBeCloseTo(expected[index]!.score, 9));
  });

  it('keeps to [from, to] on the common-words path too', () => {
    const options = { limit: 20, from: at(40), to: at(6_049) };
    const tomato = withTomato();
    const expected = storage.memory.textSearch('"weather" OR "tomato"', { ...options, limit: 10_000 }).filter((hit) => tomato.has(hit.id)).slice(0, 20);
    const got = storage.memory.textSearch({ anyOf: ['"weather"', '"tomato"'] }, options);
    expect(got.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
    const items = storage.memory.getMany(got.map((hit) => hit.id));
    expect(items.every((found) => found.at >= options.from && found.at <= options.to)).toBe(true);
  });

  it('ranks the whole query when fewer items than asked for have a rare word', () => {
    const whole = storage.memory.textSearch('"weather" OR "tomato"', { limit: 500 });
    expect(storage.memory.textSearch({ anyOf: ['"weather"', '"tomato"'] }, { limit: 500 })).toEqual(whole);
  });

  it('when every word is common, ranks the items with the rarest by their exact bm25; when they tie, the whole query', () => {
    // As many items say "sunny sunny sunny" as say "weather": a tie, so the whole query is ranked.
    storage.memory.ingest(Array.from({ length: 5_200 }, (_, index) => item(`S${index}`, 'sunny sunny sunny', { at: at(20_000 + index) })));
    const tied = storage.memory.textSearch('"weather" OR "sunny"', { limit: 50 });
    expect(storage.memory.textSearch({ anyOf: ['"weather"', '"sunny"'] }, { limit: 50 })).toEqual(tied);

    // 400 more say "sunny": "weather" is now the rarer, and only items saying it are candidates.
    storage.memory.ingest(Array.from({ length: 400 }, (_, index) => item(`S+${index}`, 'sunny sunny sunny', { at: at(30_000 + index) })));
    const weather = new Set(storage.memory.textSearch('"weather"', { limit: 10_000 }).map((hit) => hit.id));
    const whole = storage.memory.textSearch('"weather" OR "sunny"', { limit: 10_000 });
    expect(whole.slice(0, 50).some((hit) => !weather.has(hit.id))).toBe(true);
    const expected = whole.filter((hit) => weather.has(hit.id)).slice(0, 50);
    const got = storage.memory.textSearch({ anyOf: ['"sunny"', '"weather"'] }, { limit: 50 });
    expect(got.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
    got.forEach((hit, index) => expect(hit.score).toBeCloseTo(expected[index]!.score, 9));
  });
});

describe('MemoryStore textSearch when no word is common but together they match many items', () => {
  const at = (index: number) => Date.UTC(2024, 0, 1) + index * 60_000;
  const bed = 'in the long bed by the shed '.repeat(8);
  // "apple" and "pear" each in 2,060 items (short ones: alone they would beat the long "plum" items), 60 of them
  // saying both (two with "plum" too); "plum" in 300 long items; 10,000 items say none. Together: 4,420 matches.
  beforeEach(() => {
    const items: MemoryItemInput[] = [];
    for (let index = 0; index < 2_000; index++) items.push(item(`A${index}`, 'apple', { at: at(index) }), item(`P${index}`, 'pear', { at: at(3_000 + index) }));
    for (let index = 0; index < 60; index++) items.push(item(`AP${index}`, `apple pear ${index < 2 ? 'plum ' : ''}${bed}`, { at: at(6_000 + index) }));
    for (let index = 0; index < 300; index++) items.push(item(`L${index}`, `plum ${bed}`, { at: at(7_000 + index) }));
    for (let index = 0; index < 10_000; index++) items.push(item(`F${index}`, 'the garden', { at: at(8_000 + index) }));
    storage.memory.ingest(items);
  });

  const matching = (word: string) => new Set(storage.memory.textSearch(`"${word}"`, { limit: 10_000 }).map((hit) => hit.id));

  it('ranks the items saying the rarest word or two of the words, each by its exact bm25, leaving out those saying one common word', () => {
    const [apple, pear, plum] = [matching('apple'), matching('pear'), matching('plum')];
    expect([apple.size, pear.size, plum.size]).toEqual([2_060, 2_060, 302]);
    const whole = storage.memory.textSearch('"apple" OR "pear" OR "plum"', { limit: 10_000 });
    const candidate = (id: number) => plum.has(id) || (apple.has(id) && pear.has(id));
    // Ranked whole, short items saying only "apple" beat the long ones saying "plum".
    expect(whole.slice(0, 200).some((hit) => !candidate(hit.id))).toBe(true);
    const expected = whole.filter((hit) => candidate(hit.id)).slice(0, 200);
    const got = storage.memory.textSearch({ anyOf: ['"apple"', '"pear"', '"plum"'] }, { limit: 200 });
    expect(got.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
    got.forEach((hit, index) => expect(hit.score).toBeCloseTo(expected[index]!.score, 9));
    // The items saying all three are first, scored for all three.
    expect(got.slice(0, 2).every((hit) => plum.has(hit.id) && apple.has(hit.id) && pear.has(hit.id))).toBe(true);
  });

  it('keeps to a who filter on every expression', () => {
    storage.memory.ingest(Array.from({ length: 3 }, (_, index) => item(`J${index}`, index === 0 ? 'apple' : 'apple pear', { sender: '+15550002222', senderName: 'Jo Blythe', at: at(20_000 + index) })));
    const got = storage.memory.textSearch({ anyOf: ['"apple"', '"pear"', '"plum"'], filter: 'who : ("jo")' }, { limit: 5 });
    const whole = storage.memory.textSearch('("apple" OR "pear" OR "plum") AND who : ("jo")', { limit: 5 });
    // Fewer than asked for: ranked whole, within the filter.
    expect(got).toEqual(whole);
    expect(storage.memory.getMany(got.map((hit) => hit.id)).map((found) => found.guid)).toEqual(['J1', 'J2', 'J0']);
    const two = storage.memory.textSearch({ anyOf: ['"apple"', '"pear"', '"plum"'], filter: 'who : ("jo")' }, { limit: 2 });
    expect(storage.memory.getMany(two.map((hit) => hit.id)).map((found) => found.guid)).toEqual(['J1', 'J2']);
  });

  it('takes in the next rarest word when the rarest matches fewer items than asked for, instead of ranking the whole query', () => {
    const [pear, plum] = [matching('pear'), matching('plum')];
    const whole = storage.memory.textSearch('"quince" OR "plum" OR "pear" OR "apple"', { limit: 10_000 });
    const expected = whole.filter((hit) => plum.has(hit.id) || pear.has(hit.id)).slice(0, 400);
    expect(whole.slice(0, 400).map((hit) => hit.id)).not.toEqual(expected.map((hit) => hit.id));
    // "quince" matches nothing and "plum" 302 items: "pear" is rare too, so that 400 can be found.
    const got = storage.memory.textSearch({ anyOf: ['"quince"', '"plum"', '"pear"', '"apple"'] }, { limit: 400 });
    expect(got.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
  });
});
