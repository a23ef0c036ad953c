/**
 * Recall over long items: `count` remembered messages of `chars` characters each (an imported multi-megabyte paste,
 * a forwarded document), among a thousand ordinary ones in the same conversation, then the same query `runs` times
 * at limit 10 and at limit 50 (the `recall` tool's largest): median and worst wall time per query, and the process's
 * heap and buffers after. Ranking reads only the start of each candidate (main/memory/recall.ts, RANKING_READ); the
 * hits are read whole, so a limit of 50 still reads every long item that is a hit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryRecall } from '../../main/memory/recall.js';
import type { MemoryItemInput } from '../../main/storage/memory-store.js';
import { openStorage } from '../../main/storage/storage.js';

export interface LongItemsOptions {
  readonly count: number;
  readonly chars: number;
  readonly runs: number;
}

export async function longItems(options: LongItemsOptions): Promise<Record<string, unknown>> {
  const home = mkdtempSync(join(tmpdir(), 'pavise-bench-long-'));
  const storage = openStorage(join(home, 'pavise.db'), { grantTargetOf: () => '' });
  try {
    const start = Date.UTC(2026, 0, 1);
    const message = (text: string, index: number): MemoryItemInput => ({
      kind: 'message', channel: 'imessage', conversation: 'iMessage;-;sam@example.com', guid: `bench-${index}`, sender: 'sam@example.com',
      fromOwner: false, isGroup: false, text, at: start + index * 60_000, provenance: { kind: 'contact', contactId: 'imessage:sam@example.com' },
    });
    const filler = 'the quarterly figures and the door code for the shed '.repeat(Math.ceil(options.chars / 53)).slice(0, options.chars);
    const items: MemoryItemInput[] = [];
    for (let index = 0; index < 1_000 + options.count; index++) {
      // One long item in every (1000 / count) ordinary ones, so each long hit has long and short neighbours.
      const long = index % Math.floor((1_000 + options.count) / options.count) === 0 && items.filter((item) => item.text.length > 1_000).length < options.count;
      items.push(message(long ? `Paste ${index}: ${filler}` : `Short note ${index} about the shed and the garden`, index));
    }
    storage.memory.ingest(items);
    const recall = new MemoryRecall({ store: storage.memory, now: () => start + 2_000 * 60_000 });
    const timed = async (limit: number) => {
      const times: number[] = [];
      for (let run = 0; run < options.runs; run++) {
        const began = performance.now();
        await recall.search('door code shed', { limit });
        times.push(performance.now() - began);
      }
      times.sort((a, b) => a - b);
      return { medianMs: round(times[Math.floor(times.length / 2)]!), worstMs: round(times.at(-1)!) };
    };
    const limit10 = await timed(10);
    const limit50 = await timed(50);
    const memory = process.memoryUsage();
    return {
      description: `recall over ${options.count} items of ${options.chars.toLocaleString('en')} characters among 1,000 short ones, ${options.runs} runs`,
      limit10,
      limit50,
      heapUsedMB: round(memory.heapUsed / 1_048_576),
      rssMB: round(memory.rss / 1_048_576),
    };
  } finally {
    storage.close();
    rmSync(home, { recursive: true, force: true });
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
