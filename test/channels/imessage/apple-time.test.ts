import { describe, expect, it } from 'vitest';
import {
  APPLE_EPOCH_MS,
  appleTimeToUnixMs,
  appleTimeUnit,
  unixMsToAppleNanoseconds,
  unixMsToAppleSeconds,
} from '../../../main/channels/imessage/apple-time.js';

describe('Apple epoch time', () => {
  const instant = Date.UTC(2024, 5, 30, 21, 15, 42, 123);

  it('starts at 2001-01-01T00:00:00Z', () => {
    expect(new Date(APPLE_EPOCH_MS).toISOString()).toBe('2001-01-01T00:00:00.000Z');
    expect(appleTimeToUnixMs(0)).toBe(APPLE_EPOCH_MS);
  });

  it('reads nanoseconds (macOS 10.13 and later), as a number or exactly as a bigint', () => {
    // unix = date / 1e9 + 978307200 (SOURCES.md)
    const nanoseconds = 741_474_942_123_456_789n;
    expect(appleTimeUnit(nanoseconds)).toBe('nanoseconds');
    expect(appleTimeToUnixMs(nanoseconds)).toBe(741_474_942_123 + APPLE_EPOCH_MS);
    expect(appleTimeToUnixMs(741_474_942_123_500_000n)).toBe(741_474_942_124 + APPLE_EPOCH_MS);
    expect(appleTimeToUnixMs(Number(nanoseconds))).toBe(appleTimeToUnixMs(nanoseconds));
    expect(new Date(appleTimeToUnixMs(nanoseconds)).toISOString()).toBe('2024-06-30T21:15:42.123Z');
  });

  it('reads seconds (databases from before macOS 10.13)', () => {
    expect(appleTimeUnit(741_474_942)).toBe('seconds');
    expect(appleTimeToUnixMs(741_474_942)).toBe(741_474_942_000 + APPLE_EPOCH_MS);
    expect(appleTimeToUnixMs(741_474_942n)).toBe(741_474_942_000 + APPLE_EPOCH_MS);
    expect(new Date(appleTimeToUnixMs(741_474_942)).toISOString()).toBe('2024-06-30T21:15:42.000Z');
  });

  it('tells the encodings apart by magnitude across the whole range that occurs', () => {
    for (const year of [2001, 2005, 2012, 2017, 2024, 2040, 2100]) {
      const ms = Date.UTC(year, 0, 1, 0, 1, 40);
      expect(appleTimeToUnixMs(unixMsToAppleNanoseconds(ms))).toBe(ms);
      expect(appleTimeToUnixMs(unixMsToAppleSeconds(ms))).toBe(ms);
    }
  });

  it('keeps whole milliseconds whole when a nanosecond count arrives as a double', () => {
    for (let ms = Date.UTC(2025, 0, 1); ms < Date.UTC(2025, 0, 1) + 5000; ms++) {
      expect(appleTimeToUnixMs(Number(unixMsToAppleNanoseconds(ms)))).toBe(ms);
    }
  });

  it('converts back exactly', () => {
    expect(unixMsToAppleNanoseconds(instant)).toBe(BigInt(instant - APPLE_EPOCH_MS) * 1_000_000n);
    expect(appleTimeToUnixMs(unixMsToAppleNanoseconds(instant))).toBe(instant);
    expect(unixMsToAppleSeconds(instant)).toBe(Math.floor((instant - APPLE_EPOCH_MS) / 1000));
    expect(appleTimeToUnixMs(unixMsToAppleSeconds(instant))).toBe(instant - 123);
  });

  it('handles instants before 2001 (negative values)', () => {
    const ms = Date.UTC(1999, 11, 31, 23, 59, 59, 500);
    expect(appleTimeToUnixMs(unixMsToAppleNanoseconds(ms))).toBe(ms);
    expect(appleTimeToUnixMs(unixMsToAppleNanoseconds(ms) - 1n)).toBe(ms);
    expect(appleTimeToUnixMs(unixMsToAppleNanoseconds(ms) - 600_000n)).toBe(ms - 1);
    expect(appleTimeToUnixMs(Number(unixMsToAppleNanoseconds(ms) - 600_000n))).toBe(ms - 1);
  });

  it('refuses values that are not instants', () => {
    expect(() => appleTimeToUnixMs(Number.NaN)).toThrow(RangeError);
    expect(() => unixMsToAppleNanoseconds(1.5)).toThrow(RangeError);
  });
});
