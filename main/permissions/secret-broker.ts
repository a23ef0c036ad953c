import type { SecretStore } from '../secrets/secret-store.js';

/** How tools and the model refer to a secret without holding it: `{{secret:NAME}}`. */
const SECRET_HANDLE_SOURCE = String.raw`\{\{secret:([a-z0-9][a-z0-9._-]{0,63})\}\}`;

/** A fresh pattern each time: a shared global RegExp carries `lastIndex` from one caller into the next. */
export function secretHandlePattern(): RegExp {
  return new RegExp(SECRET_HANDLE_SOURCE, 'g');
}

export function secretHandle(name: string): string {
  return `{{secret:${name}}}`;
}

/** Values shorter than this are not scrubbed: they would match ordinary text. */
const MIN_SECRET_LENGTH = 8;
/** Below this, an encoded fragment is too short to be distinctive. */
const MIN_ENCODED_LENGTH = 12;

/**
 * The part of base64(prefix + value + suffix) that depends only on the value, for each of the three positions the
 * value can start at within a 3-byte group; the same fragments in base64url.
 */
function base64Cores(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const cores = [0, 1, 2].map((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const start = offset === 0 ? 0 : 4; // the first group mixes in bytes that are not the value's
    const usable = Math.floor((offset + bytes.length) / 3) * 4; // the last, partial group mixes in what follows
    return encoded.slice(start, usable);
  }).filter((core) => core.length >= MIN_ENCODED_LENGTH);
  return [...new Set([...cores, ...cores.map((core) => core.replace(/\+/g, '-').replace(/\//g, '_'))])];
}

/** How a secret can be written: each needle is searched in the folded text, some ignoring letter case. */
interface Needle {
  readonly text: string;
  readonly ignoreCase: boolean;
  /** Characters of the encoding around a match: the whole encoded run goes, not only the fragment. */
  readonly run?: RegExp;
}

const BASE64_CHAR = /[A-Za-z0-9+/_=-]/;
const HEX_CHAR = /[0-9a-fA-F]/;

function needlesOf(value: string): Needle[] {
  const needles: Needle[] = [{ text: value.toLowerCase(), ignoreCase: true }];
  if (value.length >= MIN_ENCODED_LENGTH / 2) needles.push({ text: Buffer.from(value, 'utf8').toString('hex'), ignoreCase: true, run: HEX_CHAR });
  if (value.length >= MIN_ENCODED_LENGTH) for (const core of base64Cores(value)) needles.push({ text: core, ignoreCase: false, run: BASE64_CHAR });
  return needles;
}

/** Separators and invisible characters a copy of a secret may carry in between its characters. */
const IGNORED = /[\s\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180E\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]/;

/** Text whose folding only drops whitespace: ASCII with no `\\uXXXX` escape or `%XX` encoding to decode. */
const PLAIN_ASCII = /^[\x00-\x24\x26-\x5b\x5d-\x7f]*$/;
/** What `IGNORED` matches within ASCII. */
const ASCII_WHITESPACE = /[\t\n\v\f\r ]/g;

/**
 * The text as a secret inside it would read once its disguises are taken off: `\uXXXX` escapes and %XX
 * URL-encoding decoded, full-width and other compatibility forms folded (NFKC), whitespace and invisible characters
 * dropped. `from`/`to` map every folded character back to the span of the original it came from.
 */
interface Folded {
  readonly text: string;
  readonly lower: string;
  readonly from: readonly number[];
  readonly to: readonly number[];
}

function fold(text: string): Folded {
  let folded = '';
  let lower = '';
  const from: number[] = [];
  const to: number[] = [];
  for (let at = 0; at < text.length; ) {
    let decoded: string;
    let width: number;
    const escape = text[at] === '\\' ? /^\\u([0-9a-fA-F]{4})/.exec(text.slice(at, at + 6)) : null;
    const percent = text[at] === '%' ? /^%([0-9a-fA-F]{2})/.exec(text.slice(at, at + 3)) : null;
    if (escape) {
      decoded = String.fromCharCode(Number.parseInt(escape[1] as string, 16));
      width = 6;
    } else if (percent) {
      decoded = String.fromCharCode(Number.parseInt(percent[1] as string, 16));
      width = 3;
    } else {
      const point = text.codePointAt(at) ?? 0;
      decoded = String.fromCodePoint(point);
      width = point > 0xffff ? 2 : 1;
    }
    for (const unit of decoded.normalize('NFKC')) {
      if (IGNORED.test(unit)) continue;
      for (let index = 0; index < unit.length; index++) {
        const char = unit[index] as string;
        const low = char.toLowerCase();
        folded += char;
        lower += low.length === 1 ? low : char;
        from.push(at);
        to.push(at + width);
      }
    }
    at += width;
  }
  return { text: folded, lower, from, to };
}

interface Span {
  readonly start: number;
  readonly end: number;
  readonly name: string;
}

/**
 * Holds secret values only to substitute them where a request leaves and to scrub them everywhere else
 * (invariant 2). Any known value appearing in a tool result, a log line, a model request, a stored inbound message
 * or a reply becomes `[secret:NAME]` — also when it is written in another letter case, in hex, base64 or base64url
 * at any alignment, URL-encoded, as `\uXXXX` escapes, in full-width characters, or with spaces or invisible
 * characters in between.
 */
export class SecretBroker {
  readonly #values = new Map<string, string>();
  readonly #needles = new Map<string, Needle[]>();

  constructor(private readonly store: SecretStore) {}

  /** Loads every stored secret's value, plus extra values (e.g. a key from the environment) under a name. */
  async load(extra: Readonly<Record<string, string | undefined>> = {}): Promise<void> {
    this.#values.clear();
    this.#needles.clear();
    let names: string[] = [];
    try {
      names = await this.store.list();
    } catch {
      // No keychain: nothing stored to scrub; extra values still are.
    }
    // One Keychain round trip for all of them rather than one per secret.
    const values = await Promise.all(
      names.map((name) =>
        this.store.get(name).catch(
          // An unreadable entry cannot leak through us either.
          () => undefined,
        ),
      ),
    );
    names.forEach((name, index) => {
      const value = values[index];
      if (value) this.remember(name, value);
    });
    for (const [name, value] of Object.entries(extra)) if (value) this.remember(name, value);
  }

  remember(name: string, value: string): void {
    if (value.length < MIN_SECRET_LENGTH) return;
    this.#values.set(name, value);
    this.#needles.set(name, needlesOf(value));
  }

  names(): string[] {
    return [...this.#values.keys()];
  }

  redact(text: string): string {
    if (this.#cannotHold(text)) return text;
    const spans = this.#find(text);
    let out = text;
    for (const span of spans.sort((a, b) => b.start - a.start)) out = `${out.slice(0, span.start)}[secret:${span.name}]${out.slice(span.end)}`;
    return out;
  }

  /**
   * True when `text` surely holds no secret, decided without folding it (folding costs ~7 µs a short message, which
   * an import of a million messages would pay). Exact for plain ASCII without `\\` or `%`: there, folding only drops
   * whitespace, so a needle found in the folded text is found in the text without its whitespace. Anything else is
   * folded.
   */
  #cannotHold(text: string): boolean {
    if (this.#needles.size === 0) return true;
    if (!PLAIN_ASCII.test(text)) return false;
    const compact = text.replace(ASCII_WHITESPACE, '');
    const lower = compact.toLowerCase();
    for (const needles of this.#needles.values()) {
      for (const needle of needles) if ((needle.ignoreCase ? lower : compact).includes(needle.text)) return false;
    }
    return true;
  }

  /** Where secrets occur in `text`, in any of their disguises; overlapping finds keep the longest. */
  #find(text: string): Span[] {
    if (this.#needles.size === 0 || text.length === 0) return [];
    const folded = fold(text);
    const found: Span[] = [];
    for (const [name, needles] of this.#needles) {
      for (const needle of needles) {
        const haystack = needle.ignoreCase ? folded.lower : folded.text;
        for (let at = haystack.indexOf(needle.text); at !== -1; at = haystack.indexOf(needle.text, at + 1)) {
          let start = folded.from[at] as number;
          let end = folded.to[at + needle.text.length - 1] as number;
          // Widened over the original text: in the folded one, the words around a run have closed up against it.
          if (needle.run) {
            while (start > 0 && needle.run.test(text[start - 1] as string)) start--;
            while (end < text.length && needle.run.test(text[end] as string)) end++;
          }
          found.push({ start, end, name });
        }
      }
    }
    const kept: Span[] = [];
    for (const span of found.sort((a, b) => b.end - b.start - (a.end - a.start))) {
      if (!kept.some((other) => span.start < other.end && other.start < span.end)) kept.push(span);
    }
    return kept;
  }

  /** Deep-redacts strings in a JSON-like value. */
  redactValue<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((item) => this.redactValue(item)) as T;
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, this.redactValue(child)])) as T;
    }
    return value;
  }

  containsSecret(value: unknown): boolean {
    const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
    if (secretHandlePattern().test(text)) return true;
    return this.#find(text).length > 0;
  }

  /** Replaces handles with values. Only for the moment a request leaves; never store the result. */
  async substitute(text: string): Promise<string> {
    const names = [...new Set([...text.matchAll(secretHandlePattern())].map((match) => match[1] as string))];
    let out = text;
    for (const name of names) {
      let value = this.#values.get(name);
      if (value === undefined) {
        value = await this.store.get(name);
        if (value === undefined) throw new Error(`No secret named "${name}"; store it with \`pavise secrets set ${name}\`.`);
        // Stored after load (`pavise secrets set` from another process): what is sent must be scrubbed from what
        // comes back, and a value too short to scrub is never sent.
        if (value.length < MIN_SECRET_LENGTH) {
          throw new Error(`The secret "${name}" is shorter than ${MIN_SECRET_LENGTH} characters, too short to be kept out of what comes back; it is not sent.`);
        }
        this.remember(name, value);
      }
      out = out.split(secretHandle(name)).join(value);
    }
    return out;
  }
}
