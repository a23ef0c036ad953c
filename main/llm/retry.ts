import { setTimeout as delay } from 'node:timers/promises';
import type { ProviderEvent } from './provider.js';

/**
 * How a provider retries a failed call. Providers retry only while nothing has reached the caller yet, and only
 * for failures that may pass on their own (429, 529/overloaded, 5xx, connection errors).
 */
export interface RetryPolicy {
  /** Total attempts including the first one. */
  readonly maxAttempts: number;
  /** The first backoff step; later steps double it. */
  readonly baseDelayMs: number;
  /** The longest single wait. A server asking for a longer wait (retry-after) ends the retries instead. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 60_000 });

type HeaderSource = Headers | Readonly<Record<string, string | readonly string[] | undefined>> | null | undefined;

function header(headers: HeaderSource, name: string): string | undefined {
  if (!headers) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return typeof value === 'string' ? value : value[0];
  }
  return undefined;
}

/**
 * The wait a server asked for, in milliseconds: `retry-after-ms` first, then `retry-after` as seconds or an HTTP
 * date. Undefined when absent or unreadable; a date in the past reads as 0.
 */
export function parseRetryAfter(headers: HeaderSource, now: number = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const value = header(headers, 'retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1_000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Exponential backoff with jitter for the wait before attempt `nextAttempt` (2 for the first retry): a random
 * value between half and all of `baseDelayMs * 2^(nextAttempt - 2)`, capped at `maxDelayMs`.
 */
export function backoffDelay(nextAttempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = policy.baseDelayMs * 2 ** Math.max(0, nextAttempt - 2);
  const capped = Math.min(step, policy.maxDelayMs);
  return Math.round(capped / 2 + (capped / 2) * random());
}

/** A failed attempt the caller judged retryable. */
export interface RetryableFailure {
  /** Short human text for the retry event, e.g. "rate limited (429)". */
  readonly reason: string;
  /** The wait the server asked for, from parseRetryAfter. */
  readonly retryAfterMs?: number;
}

export interface RetryOutcome<T> {
  /** The last attempt's result. */
  readonly value: T;
  readonly attempts: number;
  /**
   * Set when the last result was a retryable failure the loop gave up on: out of attempts, the server asked for a
   * wait longer than `maxDelayMs`, the signal aborted during a wait, or `mayRetry` said no (paused, over the cap).
   */
  readonly gaveUp?: 'exhausted' | 'wait_too_long' | 'aborted' | 'refused';
  /** The wait the server asked for when `gaveUp` is 'wait_too_long'. */
  readonly requestedWaitMs?: number;
}

export interface RetryLoopOptions<T> {
  readonly policy: RetryPolicy;
  readonly signal?: AbortSignal | undefined;
  readonly onEvent?: ((event: ProviderEvent) => void) | undefined;
  /** One attempt. Must not throw; failures are values the `retryable` judge inspects. */
  readonly attempt: (attemptNumber: number) => Promise<T>;
  /** Returns a failure description when `value` should be retried, undefined when it is final. */
  readonly retryable: (value: T) => RetryableFailure | undefined;
  /** Asked after each wait, before the retry leaves: a retry is a new request, and may no longer be allowed. */
  readonly mayRetry?: (() => Promise<boolean> | boolean) | undefined;
  readonly random?: () => number;
}

/**
 * Runs attempts until one is final or the policy runs out. Before each wait it emits
 * `{ type: 'retry', attempt, delayMs, reason }`, where `attempt` is the number of the attempt about to start.
 * The wait honours the server's retry-after when given, otherwise it is the jittered backoff.
 */
export async function withRetries<T>(options: RetryLoopOptions<T>): Promise<RetryOutcome<T>> {
  const { policy, signal } = options;
  const maxAttempts = Math.max(1, Math.floor(policy.maxAttempts));
  for (let attemptNumber = 1; ; attemptNumber++) {
    const value = await options.attempt(attemptNumber);
    const failure = options.retryable(value);
    if (!failure) return { value, attempts: attemptNumber };
    if (attemptNumber >= maxAttempts) return { value, attempts: attemptNumber, gaveUp: 'exhausted' };
    if (failure.retryAfterMs !== undefined && failure.retryAfterMs > policy.maxDelayMs) {
      return { value, attempts: attemptNumber, gaveUp: 'wait_too_long', requestedWaitMs: failure.retryAfterMs };
    }
    const delayMs = failure.retryAfterMs ?? backoffDelay(attemptNumber + 1, policy, options.random);
    options.onEvent?.({ type: 'retry', attempt: attemptNumber + 1, delayMs, reason: failure.reason });
    if (!(await delay(delayMs, true, { signal }).catch(() => false))) return { value, attempts: attemptNumber, gaveUp: 'aborted' };
    if (options.mayRetry && !(await Promise.resolve(options.mayRetry()).catch(() => false))) return { value, attempts: attemptNumber, gaveUp: 'refused' };
  }
}
