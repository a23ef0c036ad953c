/**
 * chat.db dates count from the Apple epoch, 2001-01-01T00:00:00Z: in nanoseconds since macOS 10.13, in seconds in
 * older databases. A seconds value stays below 1e11 until the year 5170 and a nanoseconds value passes 1e11 about
 * 100 seconds after the epoch, so the magnitude tells them apart.
 */

/** 2001-01-01T00:00:00Z in milliseconds since the Unix epoch. */
export const APPLE_EPOCH_MS = 978_307_200_000;

const NANOSECONDS_THRESHOLD = 1e11;

export type AppleTimeUnit = 'nanoseconds' | 'seconds';

/** Which encoding an Apple timestamp uses, by its magnitude. */
export function appleTimeUnit(value: number | bigint): AppleTimeUnit {
  const magnitude = typeof value === 'bigint' ? (value < 0n ? -value : value) : Math.abs(value);
  return magnitude >= NANOSECONDS_THRESHOLD ? 'nanoseconds' : 'seconds';
}

/** Milliseconds since the Unix epoch from a chat.db date in either encoding, to the nearest millisecond. */
export function appleTimeToUnixMs(value: number | bigint): number {
  if (typeof value === 'bigint') {
    if (appleTimeUnit(value) === 'nanoseconds') return Number(floorDiv(value + 500_000n, 1_000_000n)) + APPLE_EPOCH_MS;
    return Number(value) * 1000 + APPLE_EPOCH_MS;
  }
  if (!Number.isFinite(value)) throw new RangeError(`An Apple timestamp must be a finite number, not ${value}.`);
  // A nanosecond count read as a double is only exact to ~128 ns; rounding keeps whole milliseconds whole.
  return appleTimeUnit(value) === 'nanoseconds' ? Math.round(value / 1e6) + APPLE_EPOCH_MS : Math.round(value * 1000) + APPLE_EPOCH_MS;
}

function floorDiv(dividend: bigint, divisor: bigint): bigint {
  const quotient = dividend / divisor;
  return dividend % divisor !== 0n && dividend < 0n !== divisor < 0n ? quotient - 1n : quotient;
}

/** A chat.db date in nanoseconds (the modern encoding) for milliseconds since the Unix epoch. Exact, hence bigint. */
export function unixMsToAppleNanoseconds(ms: number): bigint {
  if (!Number.isSafeInteger(ms)) throw new RangeError(`Milliseconds must be a safe integer, not ${ms}.`);
  return BigInt(ms - APPLE_EPOCH_MS) * 1_000_000n;
}

/** A chat.db date in seconds (databases from before macOS 10.13) for milliseconds since the Unix epoch. */
export function unixMsToAppleSeconds(ms: number): number {
  if (!Number.isFinite(ms)) throw new RangeError(`Milliseconds must be finite, not ${ms}.`);
  return Math.floor((ms - APPLE_EPOCH_MS) / 1000);
}
