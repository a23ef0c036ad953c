/**
 * Maximal marginal relevance: picks, one at a time, the entry with the best `lambda·relevance − (1−lambda)·(highest
 * similarity to one already picked)`, so near-duplicates ("ok see you then" ×20) do not fill the list.
 * Similarity is the Jaccard index of the entries' word sets. `pool` is sorted best first and carries `score`.
 */
export function mmr<T extends { score: number }>(pool: readonly T[], lambda: number, count: number, words: (entry: T) => Set<string>): T[] {
  if (pool.length === 0) return [];
  const top = pool[0]!.score || 1;
  const remaining = pool.map((entry) => ({ entry, relevance: entry.score / top, words: words(entry) }));
  const picked: typeof remaining = [];
  while (picked.length < count && remaining.length > 0) {
    let bestIndex = 0;
    let bestValue = -Infinity;
    for (let index = 0; index < remaining.length; index++) {
      const candidate = remaining[index]!;
      let similarity = 0;
      for (const chosen of picked) similarity = Math.max(similarity, jaccard(candidate.words, chosen.words));
      // The same words again add nothing: a repeat comes after everything that says something new.
      const value = lambda * candidate.relevance - (1 - lambda) * similarity - (similarity === 1 ? 1 : 0);
      if (value > bestValue) {
        bestValue = value;
        bestIndex = index;
      }
    }
    picked.push(remaining.splice(bestIndex, 1)[0]!);
  }
  return picked.map((chosen) => chosen.entry);
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const word of a) if (b.has(word)) shared++;
  return shared / (a.size + b.size - shared);
}
