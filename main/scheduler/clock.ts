/** Time as the scheduler sees it: injectable, so tests move a fake clock instead of waiting. */
export interface Clock {
  now(): number;
  /** Calls `fire` once after `ms`; the returned function cancels it. The timer never keeps the process alive. */
  setTimer(fire: () => void, ms: number): () => void;
}

/** Longest single wait: Node's timers overflow past 2^31-1 ms, and a sleeping laptop's timers drift from the wall clock. */
export const MAX_TIMER_MS = 30 * 60_000;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fire, ms) => {
    const timer = setTimeout(fire, Math.max(0, Math.min(ms, MAX_TIMER_MS)));
    timer.unref();
    return () => clearTimeout(timer);
  },
};
