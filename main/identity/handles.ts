import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { Config } from '../common/config-schema.js';

/**
 * iMessage handles are phone numbers or emails and Telegram's numeric ids; any other channel (one added as a
 * plugin) compares its handles exactly, after trimming.
 */
export type HandleChannel = string;

/** Used when neither `owner.region` nor an owner phone number with a country code says where the owner lives. */
export const FALLBACK_REGION = 'US';

/** Phone numbers are written with ASCII digits and a little punctuation; anything else is not a phone number. */
const PHONE_SHAPE = /^\+?[0-9 ().-]+$/;
/** ASCII only: lower-casing non-ASCII can merge look-alikes (the Kelvin sign "K" lower-cases to "k"). */
const EMAIL_SHAPE = /^[!-~]+@[!-~]+\.[!-~]+$/;
const TELEGRAM_ID = /^-?[0-9]{1,20}$/;

/**
 * A handle in the one form two handles are compared in, or undefined when it is not a valid handle for the channel
 * (an undefined handle matches nothing):
 * - phone numbers as E.164, a number written without a country code read in `region` (ISO 3166 alpha-2);
 * - emails trimmed and lower-cased, ASCII only;
 * - Telegram users by numeric id only (a username is not an id).
 * Full-width digits, look-alike letters and invisible characters are not folded: a handle that needs folding is
 * not the handle it imitates.
 */
export function canonicalHandle(channel: HandleChannel, handle: string, region: string = FALLBACK_REGION): string | undefined {
  const trimmed = handle.trim();
  if (channel === 'telegram') return TELEGRAM_ID.test(trimmed) ? trimmed : undefined;
  if (channel !== 'imessage') return trimmed === '' ? undefined : trimmed;
  if (trimmed.includes('@')) return EMAIL_SHAPE.test(trimmed) ? trimmed.toLowerCase() : undefined;
  return canonicalPhone(trimmed, region);
}

/** E.164 for a phone number (a number without "+" is read in `region`), or undefined when it is not a possible number. */
export function canonicalPhone(text: string, region: string = FALLBACK_REGION): string | undefined {
  const trimmed = text.trim();
  if (!PHONE_SHAPE.test(trimmed)) return undefined;
  const country = isSupportedCountry(region) ? (region as CountryCode) : undefined;
  const parsed = parsePhoneNumberFromString(trimmed, country ? { defaultCountry: country } : {});
  return parsed?.isPossible() ? parsed.number : undefined;
}

/** Whether two handles are the same person on `channel`: equal canonical forms, never a partial match. */
export function sameHandle(channel: HandleChannel, a: string, b: string, region: string = FALLBACK_REGION): boolean {
  const left = canonicalHandle(channel, a, region);
  return left !== undefined && left === canonicalHandle(channel, b, region);
}

let lastRegion: { readonly key: string; readonly region: string } | undefined;

/**
 * The region numbers without a country code are read in: `owner.region`, else the country of the first configured
 * owner phone number written with one, else the US.
 */
export function ownerRegion(config: Pick<Config, 'owner' | 'channels'>): string {
  if (config.owner.region) return config.owner.region;
  // Asked for every inbound message; the owners rarely change, and parsing them all (none may name a country) each
  // time made a flood cost owners × messages parses.
  const owners = config.channels.imessage.owners;
  const key = owners.join('\n');
  if (lastRegion?.key === key) return lastRegion.region;
  let region = FALLBACK_REGION;
  for (const owner of owners) {
    const trimmed = owner.trim();
    if (!trimmed.startsWith('+') || !PHONE_SHAPE.test(trimmed)) continue;
    const country = parsePhoneNumberFromString(trimmed)?.country;
    if (country) {
      region = country;
      break;
    }
  }
  lastRegion = { key, region };
  return region;
}
