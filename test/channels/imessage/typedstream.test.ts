/**
 * The attributedBody decoder against real blobs: ReagentX/imessage-exporter's typedstream test data, with the text
 * each one must give in MANIFEST.json (see test/fixtures/SOURCES.md).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeAttributedBody } from '../../../main/channels/imessage/typedstream.js';
import { typedstreamBlob, typedstreamManifest } from '../../helpers/chat-db.js';

const manifest = typedstreamManifest();

describe('decodeAttributedBody', () => {
  it('has the fixtures it expects', () => {
    expect(manifest.length).toBeGreaterThanOrEqual(27);
    expect(new Set(manifest.map((entry) => entry.length_prefix))).toEqual(new Set(['u8', '0x81+u16le']));
  });

  it.each(manifest.map((entry) => [entry.file, entry] as const))('decodes %s exactly', (_file, entry) => {
    const blob = typedstreamBlob(entry.file);
    expect(blob.length).toBe(entry.bytes);
    expect(createHash('sha256').update(blob).digest('hex')).toBe(entry.sha256);
    expect(decodeAttributedBody(blob)).toEqual({ ok: true, text: entry.text });
  });

  it('reads a plain Uint8Array as well as a Buffer', () => {
    const blob = typedstreamBlob('WeirdText.bin');
    expect(decodeAttributedBody(new Uint8Array(blob))).toEqual({ ok: true, text: '𝖍𝖊𝖑𝖑𝖔 𝖜𝖔𝖗𝖑𝖉' });
  });

  it('reads a string length written as 0x81 + 16-bit little-endian (LongMessage, 2359 bytes)', () => {
    const result = decodeAttributedBody(typedstreamBlob('LongMessage.bin'));
    expect(result.ok && Buffer.byteLength(result.text)).toBe(2359);
  });

  it('reads a string length written as 0x82 + 32-bit little-endian', () => {
    // A fixture blob with its one-byte length (0x0a, "Noter test") rewritten in the four-byte form.
    const blob = typedstreamBlob('AttributedBodyTextOnly.bin');
    const at = blob.indexOf(Buffer.from('2b0a4e6f746572', 'hex')) + 1;
    const widened = Buffer.concat([blob.subarray(0, at), Buffer.from([0x82, 0x0a, 0, 0, 0]), blob.subarray(at + 1)]);
    expect(decodeAttributedBody(widened)).toEqual({ ok: true, text: 'Noter test' });
  });

  it('recovers the string of a blob whose declared length overruns it (ExtraData)', () => {
    const entry = manifest.find((candidate) => candidate.declared_len_mismatch);
    expect(entry?.file).toBe('ExtraData.bin');
    expect(decodeAttributedBody(typedstreamBlob('ExtraData.bin'))).toEqual({ ok: true, text: 'This is parsing  ' });
  });

  it('reports every truncation of every blob as an error, never a throw', () => {
    for (const entry of manifest) {
      const blob = typedstreamBlob(entry.file);
      for (let cut = 0; cut < blob.length; cut++) {
        const result = decodeAttributedBody(blob.subarray(0, cut));
        expect(result.ok, `${entry.file} cut at ${cut}`).toBe(false);
      }
    }
  });

  it('says what went wrong', () => {
    const blob = typedstreamBlob('Code.bin');
    expect(decodeAttributedBody(blob.subarray(0, 100))).toEqual({ ok: false, error: expect.stringMatching(/^cannot decode attributedBody: truncated/) });
    expect(decodeAttributedBody(Buffer.alloc(0))).toEqual({ ok: false, error: 'attributedBody is empty' });
    expect(decodeAttributedBody(Buffer.from('bplist00garbage'))).toEqual({ ok: false, error: expect.stringContaining('not a typedstream') });
    const bigEndian = Buffer.concat([Buffer.from([4, 11]), Buffer.from('typedstream'), Buffer.from([0x81, 0x03, 0xe8])]);
    expect(decodeAttributedBody(bigEndian)).toEqual({ ok: false, error: expect.stringContaining('big-endian') });
    const notUtf8 = Buffer.from(typedstreamBlob('AttributedBodyTextOnly.bin'));
    notUtf8[notUtf8.indexOf('Noter')] = 0xff;
    expect(decodeAttributedBody(notUtf8)).toEqual({ ok: false, error: expect.stringContaining('not valid UTF-8') });
  });

  it('survives garbage and damaged blobs: every result is a value, errors are non-empty strings', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const blobs = manifest.map((entry) => typedstreamBlob(entry.file));
    let failures = 0;
    for (let i = 0; i < 20_000; i++) {
      const blob = Buffer.from(blobs[i % blobs.length] as Buffer);
      if (i % 4 === 0) {
        for (let j = 16; j < blob.length; j++) blob[j] = random() & 0xff;
      } else {
        for (let flips = 1 + (random() % 4); flips > 0; flips--) blob[random() % blob.length] = random() & 0xff;
      }
      const result = decodeAttributedBody(blob);
      if (!result.ok) {
        failures++;
        expect(result.error).toMatch(/^cannot decode attributedBody: ./);
      } else {
        expect(typeof result.text).toBe('string');
      }
    }
    expect(failures).toBeGreaterThan(5_000);
  });
});
