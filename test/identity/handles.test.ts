import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../main/config/config.js';
import { canonicalHandle, ownerRegion, sameHandle } from '../../main/identity/handles.js';

describe('canonicalHandle', () => {
  it('writes phone numbers as E.164, reading numbers without a country code in the given region', () => {
    expect(canonicalHandle('imessage', '+1 (555) 000-1111', 'US')).toBe('+15550001111');
    expect(canonicalHandle('imessage', '(555) 000-1111', 'US')).toBe('+15550001111');
    expect(canonicalHandle('imessage', '07737 345678', 'GB')).toBe('+447737345678');
  });

  it('lower-cases and trims ASCII emails and refuses non-ASCII ones', () => {
    expect(canonicalHandle('imessage', '  Me@iCloud.COM ')).toBe('me@icloud.com');
    expect(canonicalHandle('imessage', 'me@icloud.\u212Aom')).toBeUndefined();
  });

  it('takes only numeric ids on Telegram', () => {
    expect(canonicalHandle('telegram', ' 424242 ')).toBe('424242');
    expect(canonicalHandle('telegram', '@owner_name')).toBeUndefined();
    expect(canonicalHandle('telegram', 'owner_name')).toBeUndefined();
  });
});

describe('sameHandle: near misses never match', () => {
  const owner = '+15550001111';
  it.each([
    ['another country code, same last ten digits', '+445550001111'],
    ['another country code, same national number', '+17737345678'],
    ['one extra digit', '+155500011110'],
    ['one missing digit', '+1555000111'],
    ['one digit different', '+15550001112'],
    ['full-width digits', '+\uFF11\uFF15\uFF15\uFF15\uFF10\uFF10\uFF10\uFF11\uFF11\uFF11\uFF11'],
    ['Arabic-Indic digits', '+\u0661\u0665\u0665\u0665\u0660\u0660\u0660\u0661\u0661\u0661\u0661'],
    ['a zero-width space inside', '+1555\u200B0001111'],
  ])('%s', (_label, candidate) => {
    expect(sameHandle('imessage', owner, candidate, 'US')).toBe(false);
  });

  it('a UK owner is not a US number with the same national digits', () => {
    expect(sameHandle('imessage', '+447737345678', '+17737345678', 'GB')).toBe(false);
    expect(sameHandle('imessage', '07737 345678', '+17737345678', 'GB')).toBe(false);
    expect(sameHandle('imessage', '07737 345678', '+447737345678', 'GB')).toBe(true);
  });

  it('emails match case-insensitively but not through look-alike letters', () => {
    expect(sameHandle('imessage', 'me@icloud.com', ' ME@iCloud.com ')).toBe(true);
    expect(sameHandle('imessage', 'me@icloud.com', 'me@icl\u043Eud.com')).toBe(false); // Cyrillic o
    expect(sameHandle('imessage', 'me@icloud.com', 'me@icloud.com.evil.test')).toBe(false);
    expect(sameHandle('imessage', 'me@icloud.com', '\uFF4De@icloud.com')).toBe(false); // full-width m
  });

  it('Telegram: a username is never the owner id, nor an id with another digit', () => {
    expect(sameHandle('telegram', '424242', '424242')).toBe(true);
    expect(sameHandle('telegram', '424242', '@424242')).toBe(false);
    expect(sameHandle('telegram', '424242', '4242420')).toBe(false);
    expect(sameHandle('telegram', '424242', '\uFF14\uFF12\uFF14\uFF12\uFF14\uFF12')).toBe(false);
  });

  it('an invalid handle matches nothing, not even itself', () => {
    expect(sameHandle('imessage', 'not a number', 'not a number')).toBe(false);
  });
});

describe('ownerRegion', () => {
  it('is owner.region, else the first owner phone number’s country, else US', () => {
    expect(ownerRegion(parseConfig(JSON.stringify({ owner: { region: 'de' } })))).toBe('DE');
    expect(ownerRegion(parseConfig(JSON.stringify({ channels: { imessage: { owners: ['me@icloud.com', '+447737345678'] } } })))).toBe('GB');
    expect(ownerRegion(parseConfig('{}'))).toBe('US');
  });

  it('rejects a region that is not a two-letter code, naming the field and the fix', () => {
    expect(() => parseConfig(JSON.stringify({ owner: { region: 'United Kingdom' } }))).toThrow(/owner\.region is "United Kingdom": must be a two-letter country code/);
  });
});
