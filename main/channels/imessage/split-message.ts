/** Longest chunk, in UTF-16 code units, that one iMessage send carries. */
export const DEFAULT_MAX_CHUNK_LENGTH = 2000;

/**
 * The text as it can travel in argv: NUL ends a C string, so it is removed; a lone surrogate has no UTF-8 form, so it
 * becomes U+FFFD (what Node would send anyway). Nothing else is changed.
 */
export function prepareMessageText(text: string): string {
  return text.replaceAll('\0', '').replace(/\p{Cs}/gu, '\uFFFD');
}

const segmenters = {
  grapheme: new Intl.Segmenter(undefined, { granularity: 'grapheme' }),
  word: new Intl.Segmenter(undefined, { granularity: 'word' }),
  sentence: new Intl.Segmenter(undefined, { granularity: 'sentence' }),
};

/** Breakable white space; no-break spaces (U+00A0, U+2007, U+202F) and U+FEFF are not. */
const BREAKABLE_SPACE = /[\t\n\v\f\r \u0085\u1680\u2000-\u2006\u2008-\u200a\u2028\u2029\u205f\u3000]/;
const LINE_END = /[\n\v\f\r\u0085\u2028\u2029]/;

/**
 * Splits text into chunks of at most maxLength UTF-16 code units that concatenate back to the text exactly. Each
 * chunk ends at the latest good boundary: a paragraph break, then a line break, then a sentence end (each only in the
 * second half of the window, so chunks stay long), then a space between words, then any word boundary (Chinese,
 * Japanese), then a grapheme boundary. White space at a break stays at the end of the earlier chunk. Emoji, flags and
 * combining sequences are never split; only a single grapheme longer than maxLength (abusive text) is cut, between
 * code points, never inside a surrogate pair.
 */
export function splitMessage(text: string, maxLength: number = DEFAULT_MAX_CHUNK_LENGTH): string[] {
  if (!Number.isSafeInteger(maxLength) || maxLength < 2) {
    throw new RangeError(`maxLength must be an integer of at least 2, not ${maxLength}`);
  }
  if (text.length === 0) return [];
  if (text.length <= maxLength) return [text];
  const breaks = new BreakFinder(text);
  const chunks: string[] = [];
  let start = 0;
  while (text.length - start > maxLength) {
    const end = breaks.cut(start, start + maxLength);
    chunks.push(text.slice(start, end));
    start = end;
  }
  chunks.push(text.slice(start));
  return chunks;
}

class BreakFinder {
  readonly #text: string;
  readonly #graphemes: Intl.Segments;
  #words: Intl.Segments | undefined;
  #sentences: Intl.Segments | undefined;

  constructor(text: string) {
    this.#text = text;
    this.#graphemes = segmenters.grapheme.segment(text);
  }

  /** The end of the chunk that starts at start: a position in (start, limit], where limit < text.length. */
  cut(start: number, limit: number): number {
    const min = start + Math.floor((limit - start) / 2);
    return (
      this.#afterSpace(limit, min, 2) ??
      this.#afterSpace(limit, min, 1) ??
      this.#sentenceEnd(limit, min) ??
      this.#wordStart(limit, start, true) ??
      this.#wordStart(limit, start, false) ??
      this.#graphemeStart(limit, start) ??
      this.#codePointStart(limit)
    );
  }

  #isGraphemeBoundary(position: number): boolean {
    return position >= this.#text.length || this.#graphemes.containing(position)?.index === position;
  }

  #isSpace(position: number): boolean {
    return BREAKABLE_SPACE.test(this.#text.charAt(position));
  }

  /** The latest end of a run of white space holding at least `lineEnds` line ends (CRLF counts once). */
  #afterSpace(limit: number, min: number, lineEnds: number): number | undefined {
    for (let end = limit; end > min; end--) {
      if (!this.#isSpace(end - 1) || this.#isSpace(end)) continue;
      let runStart = end - 1;
      while (runStart > 0 && this.#isSpace(runStart - 1)) runStart--;
      let count = 0;
      for (let i = runStart; i < end; i++) {
        const char = this.#text.charAt(i);
        if (char === '\u2029') count += 2;
        else if (LINE_END.test(char) && !(char === '\r' && this.#text.charAt(i + 1) === '\n')) count++;
      }
      if (count >= lineEnds && this.#isGraphemeBoundary(end)) return end;
      end = runStart + 1;
    }
    return undefined;
  }

  #sentenceEnd(limit: number, min: number): number | undefined {
    this.#sentences ??= segmenters.sentence.segment(this.#text);
    return this.#latest(this.#sentences, limit, min, () => true);
  }

  #wordStart(limit: number, floor: number, afterSpace: boolean): number | undefined {
    this.#words ??= segmenters.word.segment(this.#text);
    return this.#latest(
      this.#words,
      limit,
      floor,
      afterSpace ? (position) => this.#isSpace(position - 1) && !this.#isSpace(position) : () => true,
    );
  }

  #latest(segments: Intl.Segments, limit: number, floor: number, accept: (position: number) => boolean): number | undefined {
    let position = segments.containing(limit)?.index;
    while (position !== undefined && position > floor) {
      if (accept(position) && this.#isGraphemeBoundary(position)) return position;
      position = segments.containing(position - 1)?.index;
    }
    return undefined;
  }

  #graphemeStart(limit: number, start: number): number | undefined {
    const position = this.#graphemes.containing(limit)?.index;
    return position !== undefined && position > start ? position : undefined;
  }

  #codePointStart(limit: number): number {
    const before = this.#text.charCodeAt(limit - 1);
    const after = this.#text.charCodeAt(limit);
    const inPair = before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
    return inPair ? limit - 1 : limit;
  }
}
