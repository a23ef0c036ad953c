import { useEffect, useRef, useState } from 'react';

export interface Present<T> {
  readonly item: T;
  readonly leaving: boolean;
}

/** True when the owner asked the system for less motion. */
export function prefersReducedMotion(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
}

/**
 * Keeps removed items on screen for `exitMs` so they can animate out, in their old place. New items enter at
 * once (their entrance is a CSS animation). With reduced motion, items leave immediately.
 */
export function usePresence<T extends { readonly id: string }>(items: readonly T[], exitMs: number): Present<T>[] {
  const previous = useRef<readonly T[]>(items);
  const [leaving, setLeaving] = useState<ReadonlyMap<string, { item: T; index: number }>>(new Map());
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());

  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
    };
  }, []);

  useEffect(() => {
    const before = previous.current;
    previous.current = items;
    if (exitMs <= 0) return;
    const ids = new Set(items.map((item) => item.id));
    const gone = before.map((item, index) => ({ item, index })).filter(({ item }) => !ids.has(item.id));
    if (gone.length === 0) return;
    setLeaving((current) => {
      const next = new Map(current);
      for (const entry of gone) next.set(entry.item.id, entry);
      return next;
    });
    const timer = setTimeout(() => {
      timers.current.delete(timer);
      setLeaving((current) => {
        const next = new Map(current);
        for (const entry of gone) next.delete(entry.item.id);
        return next;
      });
    }, exitMs);
    timers.current.add(timer);
  }, [items, exitMs]);

  const present: Present<T>[] = items.map((item) => ({ item, leaving: false }));
  for (const { item, index } of leaving.values()) {
    if (items.some((current) => current.id === item.id)) continue;
    present.splice(Math.min(index, present.length), 0, { item, leaving: true });
  }
  return present;
}
