import { setTimeout as sleep } from 'node:timers/promises';

export interface RestartOptions {
  /** Waits before each restart, in order; the last repeats. */
  readonly delaysMs?: readonly number[];
  /** A run that lasted this long was healthy: the next failure starts the delays again from the first. */
  readonly healthyAfterMs?: number;
  /** Told before each restart, with why the run ended and how long until the next. */
  readonly onRestart?: (reason: string, delayMs: number, attempt: number) => void;
  /** Whether an error ends supervision instead of a restart (another gateway holds the home, say). */
  readonly isFatal?: (error: unknown) => boolean;
  readonly now?: () => number;
}

const DEFAULT_DELAYS = [1_000, 2_000, 5_000, 15_000, 60_000, 300_000];

/**
 * Keeps `run` running until `signal` aborts: when it throws or returns early, it is started again after a growing
 * delay. Resolves when the signal aborts; rejects with a fatal error.
 */
export async function restartWithBackoff(run: (signal: AbortSignal) => Promise<void>, signal: AbortSignal, options: RestartOptions = {}): Promise<void> {
  const delays = options.delaysMs ?? DEFAULT_DELAYS;
  const healthyAfter = options.healthyAfterMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;
  let attempt = 0;
  while (!signal.aborted) {
    const started = now();
    let reason: string;
    try {
      await run(signal);
      if (signal.aborted) return;
      reason = 'it stopped by itself';
    } catch (error) {
      if (signal.aborted) return;
      if (options.isFatal?.(error)) throw error;
      reason = error instanceof Error ? error.message : String(error);
    }
    if (now() - started >= healthyAfter) attempt = 0;
    const delay = delays[Math.min(attempt, delays.length - 1)] ?? 1_000;
    attempt += 1;
    options.onRestart?.(reason, delay, attempt);
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      return;
    }
  }
}
