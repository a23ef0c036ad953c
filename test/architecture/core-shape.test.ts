/**
 * The shape of the core (ARCHITECTURE.md): it is wired in main/compose.ts (there is no services.ts god object),
 * only main/storage/ (and the read-only chat.db reader) touch SQLite, no module in main/ imports one that imports
 * it back, and no source file grows past 600 lines.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const MAX_LINES = 600;
/** Being split on their own branches; they leave this list when that lands. */
const LONG_FILES_BEING_SPLIT = new Set(['main/audit/checks.ts', 'main/channels/imessage/sender.ts']);
const SQLITE_ALLOWED = (path: string) => path.startsWith('main/storage/') || path === 'main/channels/imessage/chat-db-reader.ts';

function sources(folder: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) found.push(relative(ROOT, path));
    }
  };
  walk(join(ROOT, folder));
  return found.sort();
}

/** Every module specifier a file imports or re-exports, statically or dynamically, type-only included. */
function specifiers(text: string): string[] {
  const pattern = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  return [...text.matchAll(pattern)].map((match) => match[1] ?? match[2] ?? '');
}

/** The main/ file a relative specifier names (`./x.js` is written for `./x.ts`), or undefined for a package. */
function resolveRelative(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = relative(ROOT, resolve(ROOT, dirname(from), specifier)).replace(/\.js$/, '.ts');
  return target;
}

/** The first import cycle in `graph`, as the list of files around it, or undefined. */
function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): string[] | undefined => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of graph.keys()) {
    if (state.has(file)) continue;
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('the shape of the core', () => {
  const main = sources('main');

  it('has no services.ts: the core is wired in main/compose.ts', () => {
    expect(existsSync(join(ROOT, 'main/services.ts'))).toBe(false);
    expect(existsSync(join(ROOT, 'main/compose.ts'))).toBe(true);
  });

  it('imports better-sqlite3 only in main/storage/ and the chat.db reader', () => {
    const offenders = [...main, ...sources('electron')].filter(
      (path) => !SQLITE_ALLOWED(path) && specifiers(readFileSync(join(ROOT, path), 'utf8')).includes('better-sqlite3'),
    );
    expect(offenders).toEqual([]);
    // The check itself sees the imports it is looking for.
    expect(main.filter((path) => specifiers(readFileSync(join(ROOT, path), 'utf8')).includes('better-sqlite3'))).toContain('main/storage/database.ts');
  });

  it('has no import cycle among main/ files', () => {
    const graph = new Map<string, string[]>();
    for (const path of main) {
      const targets = specifiers(readFileSync(join(ROOT, path), 'utf8'))
        .map((specifier) => resolveRelative(path, specifier))
        .filter((target): target is string => target !== undefined && target.startsWith('main/'));
      graph.set(path, targets);
    }
    expect(graph.get('main/compose.ts')).toContain('main/runtime/turn-runner.ts');
    expect(findCycle(graph)?.join(' -> ')).toBeUndefined();
  });

  it(`keeps every main/ source file at ${MAX_LINES} lines or fewer`, () => {
    const long = main
      .filter((path) => !LONG_FILES_BEING_SPLIT.has(path))
      .map((path) => ({ path, lines: readFileSync(join(ROOT, path), 'utf8').split('\n').length }))
      .filter((file) => file.lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  it('finds a cycle when there is one, and the imports of every form', () => {
    expect(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]))).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', []]]))).toBeUndefined();
    const text = "import a from './a.js';\nimport type { B } from '../b.js';\nexport { c } from './c.js';\nconst d = await import('./d.js');\nimport './e.js';";
    expect(specifiers(text)).toEqual(['./a.js', '../b.js', './c.js', './d.js', './e.js']);
  });
});
