import type { Clock } from '../../main/scheduler/clock.js';

/** A clock the test moves: timers fire in order as `advance` passes them, never by waiting. */
export class FakeClock implements Clock {
  #now: number;
  #timers: { at: number; fire: () => void; id: number }[] = [];
  #ids = 0;
  /** Every delay a timer was armed with (what "one timer, no polling" looks like). */
  readonly armed: number[] = [];

  constructor(start: number | string) {
    this.#now = typeof start === 'string' ? Date.parse(start) : start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fire: () => void, ms: number): () => void {
    const id = ++this.#ids;
    this.armed.push(ms);
    this.#timers.push({ at: this.#now + Math.max(0, ms), fire, id });
    return () => {
      this.#timers = this.#timers.filter((timer) => timer.id !== id);
    };
  }

  pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing each timer at its moment; `settle` runs after each fire. */
  async advance(ms: number, settle: () => Promise<void> = async () => undefined): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      const next = this.#timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.#timers = this.#timers.filter((timer) => timer !== next);
      this.#now = Math.max(this.#now, next.at);
      next.fire();
      await settle();
    }
    this.#now = end;
  }

  set(instant: number | string): void {
    this.#now = typeof instant === 'string' ? Date.parse(instant) : instant;
  }
}
