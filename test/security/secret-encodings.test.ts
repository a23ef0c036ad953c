import { describe, expect, it } from 'vitest';
import { SecretBroker } from '../../main/permissions/secret-broker.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';

/** A fooled model (or a page) can carry a secret out in disguise; every disguise below must still be scrubbed. */
const SECRET = 'ghp_Zq8Lk2Vw9Xr4Tn7Yp1Bc5Md3';
const broker = new SecretBroker(new MemorySecretStore());
broker.remember('github-token', SECRET);

const fullWidth = (text: string) => [...text].map((char) => (char >= '!' && char <= '~' ? String.fromCharCode(char.charCodeAt(0) + 0xfee0) : char)).join('');
const base64At = (offset: number) => Buffer.from(`${'x'.repeat(offset)}token=${SECRET}&more`).toString('base64');

function expectScrubbed(carrier: string): void {
  const out = broker.redact(`before ${carrier} after`);
  expect(out).toContain('[secret:github-token]');
  expect(out.startsWith('before ')).toBe(true);
  expect(out.endsWith(' after')).toBe(true);
  expect(broker.containsSecret(carrier)).toBe(true);
}

describe('secrets are scrubbed in every encoding', () => {
  it('as written', () => expectScrubbed(SECRET));
  it('in another letter case', () => {
    expectScrubbed(SECRET.toUpperCase());
    expectScrubbed(SECRET.toLowerCase());
  });
  it('in lower-case hex', () => expectScrubbed(Buffer.from(SECRET).toString('hex')));
  it('in upper-case hex', () => expectScrubbed(Buffer.from(SECRET).toString('hex').toUpperCase()));
  it.each([0, 1, 2])('in base64 at alignment %i', (offset) => expectScrubbed(base64At(offset)));
  it.each([0, 1, 2])('in base64url at alignment %i', (offset) => expectScrubbed(base64At(offset).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')));
  it('in base64 wrapped over lines', () => expectScrubbed(base64At(1).replace(/(.{16})/g, '$1\n')));
  it('URL-encoded', () => expectScrubbed(encodeURIComponent(SECRET).replace(/[A-Za-z0-9_]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)));
  it('with spaces in between', () => expectScrubbed(SECRET.split('').join(' ')));
  // Plain ASCII takes the quick path (no folding); every ASCII separator folding drops must still be seen through.
  it('with tabs, line breaks, vertical tabs and form feeds in between', () => expectScrubbed(SECRET.split('').join('\t\n\v\f\r')));
  it('with zero-width characters in between', () => expectScrubbed(SECRET.split('').join('\u200B')));
  it('with a soft hyphen and word joiners in between', () => expectScrubbed(SECRET.split('').join('\u00AD\u2060')));
  it('in full-width characters', () => expectScrubbed(fullWidth(SECRET)));
  it('as \\uXXXX escapes', () => expectScrubbed([...SECRET].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')));
  it('as mixed disguises: full-width, escaped and zero-width at once', () => {
    const mixed = [...SECRET].map((char, index) => (index % 3 === 0 ? fullWidth(char) : index % 3 === 1 ? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}` : `${char}\u200C`)).join('');
    expectScrubbed(mixed);
  });

  it('leaves ordinary text, and other base64 and hex, alone', () => {
    const ordinary = `The meeting moved to 3pm. ${Buffer.from('nothing secret here at all').toString('base64')} ${Buffer.from('nor here either').toString('hex')} 50% off`;
    expect(broker.redact(ordinary)).toBe(ordinary);
    expect(broker.containsSecret(ordinary)).toBe(false);
  });
});
