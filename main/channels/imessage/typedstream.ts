/**
 * Reads the text out of `message.attributedBody`: an NSAttributedString archived by NSArchiver in Apple's
 * "typedstream" format (little-endian flavour, signature "streamtyped"). Written from the format's facts:
 *
 * - Header: version byte (4), the signature as a length-prefixed string, the system version as an integer.
 * - Integers: one signed byte, or 0x81 + int16 LE, or 0x82 + int32 LE. Floats: 0x83 + IEEE LE bytes, or an integer.
 * - Markers: 0x84 new, 0x85 nil, 0x86 end of object; a reference is an integer counted from 0x92 (= index 0).
 * - Shared strings (type encodings, class names) live in one table; objects, classes and C strings in another.
 * - A value is preceded by its Objective-C type encoding ("@", "+", "iI", "*", …), itself a shared string.
 * - An object is its class chain (name, version, superclass … nil) then typed groups until end of object.
 * - NSAttributedString encodes its string first: an NS(Mutable)String whose contents are a "+" group holding the
 *   UTF-8 bytes behind a length.
 *
 * The whole stream is parsed, so a truncated or damaged blob is reported rather than half-read. Decoding never
 * throws: failures come back as `{ ok: false, error }`.
 */

export type TypedStreamResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly error: string };

const TAG_INT16 = 0x81;
const TAG_INT32 = 0x82;
const TAG_FLOAT = 0x83;
const TAG_NEW = 0x84;
const TAG_NIL = 0x85;
const TAG_END = 0x86;
/** Reference numbers are written as integers offset by this (signed 0x92). */
const FIRST_REFERENCE = -110;
const MAX_DEPTH = 64;
const MAX_TYPE_CACHE = 256;

class DecodeError extends Error {}

type TypeNode =
  | { readonly k: 'int' }
  | { readonly k: 'float'; readonly size: 4 | 8 }
  | { readonly k: 'object' }
  | { readonly k: 'class' }
  | { readonly k: 'selector' }
  | { readonly k: 'cstring' }
  | { readonly k: 'bytes' }
  | { readonly k: 'chars'; readonly count: number }
  | { readonly k: 'array'; readonly count: number; readonly element: TypeNode }
  | { readonly k: 'struct'; readonly fields: readonly TypeNode[] };

type TableEntry = { readonly kind: 'class'; readonly name: string } | { readonly kind: 'object' } | { readonly kind: 'cstring' };

/** What one decoded object exposes to its container: enough to find the attributed string's text. */
interface ObjectInfo {
  readonly classNames: readonly string[];
  /** The first "+" value directly inside the object (an NSString's UTF-8 bytes). */
  firstBytes: Uint8Array | undefined;
  /** The first object value directly inside the object (an NSAttributedString's string). */
  firstObject: ObjectInfo | null | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Class names and type encodings are short ASCII; building them by hand is several times faster than a TextDecoder. */
function latin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i] as number);
  return text;
}

/** A name from the blob, safe to put in an error message. */
function printable(name: string): string {
  return JSON.stringify(name.replace(/[^\x20-\x7e]/g, '?'));
}
const typeCache = new Map<string, readonly TypeNode[]>();

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

function parseTypeEncoding(encoding: string): readonly TypeNode[] {
  const cached = typeCache.get(encoding);
  if (cached) return cached;
  let index = 0;
  const fail = (why: string): never => {
    throw new DecodeError(`unsupported type encoding "${encoding}" (${why})`);
  };
  const readCount = (): number => {
    const start = index;
    while (index < encoding.length && encoding.charCodeAt(index) >= 48 && encoding.charCodeAt(index) <= 57) index++;
    if (index === start) fail('array without a count');
    const count = Number(encoding.slice(start, index));
    if (!Number.isSafeInteger(count) || count > 0x7fffffff) fail('array count out of range');
    return count;
  };
  const one = (): TypeNode => {
    const char = encoding[index++];
    switch (char) {
      case 'c': case 'C': case 's': case 'S': case 'i': case 'I': case 'l': case 'L': case 'q': case 'Q': case 'B':
        return { k: 'int' };
      case 'f':
        return { k: 'float', size: 4 };
      case 'd':
        return { k: 'float', size: 8 };
      case '@':
        return { k: 'object' };
      case '#':
        return { k: 'class' };
      case ':':
        return { k: 'selector' };
      case '*':
      case '%':
        return { k: 'cstring' };
      case '+':
        return { k: 'bytes' };
      case '[': {
        const count = readCount();
        // Character arrays are written as raw bytes, not as one integer per element.
        const raw = (encoding[index] === 'c' || encoding[index] === 'C') && encoding[index + 1] === ']';
        const element = one();
        if (encoding[index++] !== ']') fail('unterminated array');
        return raw ? { k: 'chars', count } : { k: 'array', count, element };
      }
      case '{': {
        const equals = encoding.indexOf('=', index);
        const close = encoding.indexOf('}', index);
        if (equals !== -1 && (close === -1 || equals < close)) index = equals + 1;
        const fields: TypeNode[] = [];
        while (index < encoding.length && encoding[index] !== '}') fields.push(one());
        if (encoding[index++] !== '}') fail('unterminated struct');
        // An empty struct consumes no bytes: an array of them could loop without reading anything.
        if (fields.length === 0) fail('empty struct');
        return { k: 'struct', fields };
      }
      default:
        return fail(char === undefined ? 'ends early' : `type "${char}"`);
    }
  };
  const nodes: TypeNode[] = [];
  while (index < encoding.length) nodes.push(one());
  if (nodes.length === 0) fail('empty');
  if (typeCache.size >= MAX_TYPE_CACHE) typeCache.clear();
  typeCache.set(encoding, nodes);
  return nodes;
}

class TypedStreamReader {
  private pos = 0;
  private readonly shared: string[] = [];
  private readonly table: TableEntry[] = [];
  /** Used only to recover a string whose declared length overruns the blob (see decodeAttributedBody). */
  overrunAt = -1;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly forcedLength: { readonly at: number; readonly length: number } | undefined,
  ) {}

  private fail(what: string): never {
    throw new DecodeError(`${what} at byte ${this.pos}`);
  }

  private need(count: number, what: string): void {
    if (this.pos + count > this.bytes.length) {
      throw new DecodeError(`truncated: ${what} needs ${count} byte${count === 1 ? '' : 's'} at byte ${this.pos}, the blob has ${this.bytes.length}`);
    }
  }

  private byte(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++] as number;
  }

  private peek(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos] as number;
  }

  private int16(): number {
    this.need(2, 'a 16-bit integer');
    const b = this.bytes;
    const value = (b[this.pos] as number) | ((b[this.pos + 1] as number) << 8);
    this.pos += 2;
    return (value << 16) >> 16;
  }

  private int32(): number {
    this.need(4, 'a 32-bit integer');
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return (b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24);
  }

  /** An integer whose first byte has already been read. */
  private intFrom(head: number, what: string): number {
    if (head === TAG_INT16) return this.int16();
    if (head === TAG_INT32) return this.int32();
    if (head >= TAG_FLOAT && head <= 0x91) {
      this.pos--;
      this.fail(`unexpected marker ${hex(head)} where ${what} was expected`);
    }
    return (head << 24) >> 24;
  }

  private int(what: string): number {
    return this.intFrom(this.byte(what), what);
  }

  private reference(head: number, tableSize: number, table: string): number {
    const index = this.intFrom(head, 'a reference') - FIRST_REFERENCE;
    if (index < 0 || index >= tableSize) {
      this.fail(`${table} reference ${index} out of range (${tableSize} known)`);
    }
    return index;
  }

  private float(size: 4 | 8): void {
    const head = this.byte('a number');
    if (head === TAG_FLOAT) {
      this.need(size, 'a floating-point number');
      this.pos += size;
      return;
    }
    this.intFrom(head, 'a number');
  }

  /** A length-prefixed run of bytes; `forcedLength` overrides one declared length during recovery. */
  private lengthPrefixed(what: string): Uint8Array {
    const lengthAt = this.pos;
    let length = this.int('a length');
    if (length < 0) this.fail(`negative length ${length} for ${what}`);
    if (this.forcedLength && this.forcedLength.at === lengthAt) length = this.forcedLength.length;
    else if (this.pos + length > this.bytes.length && this.overrunAt === -1) this.overrunAt = lengthAt;
    this.need(length, what);
    const start = this.pos;
    this.pos += length;
    return this.bytes.subarray(start, this.pos);
  }

  private sharedString(what: string): string | null {
    const head = this.byte(what);
    if (head === TAG_NIL) return null;
    if (head === TAG_NEW) {
      const value = latin1(this.lengthPrefixed(what));
      this.shared.push(value);
      return value;
    }
    return this.shared[this.reference(head, this.shared.length, 'shared string')] as string;
  }

  /** A class chain; returns the class names from the object's own class up to the root class. */
  private classChain(): string[] {
    const names: string[] = [];
    for (;;) {
      if (names.length > MAX_DEPTH) this.fail('class chain too deep');
      const head = this.byte('a class');
      if (head === TAG_NIL) return names;
      if (head === TAG_NEW) {
        const name = this.sharedString('a class name');
        if (name === null || name.length === 0) this.fail('a class without a name');
        this.table.push({ kind: 'class', name });
        this.int('a class version');
        names.push(name);
        continue;
      }
      const index = this.reference(head, this.table.length, 'object');
      const entry = this.table[index] as TableEntry;
      if (entry.kind !== 'class') this.fail(`reference ${index} is not a class`);
      // A referenced class was read with its whole chain before: the chain ends here, without a nil.
      names.push(entry.name);
      return names;
    }
  }

  private object(depth: number): ObjectInfo | null {
    if (depth > MAX_DEPTH) this.fail('objects nested too deeply');
    const head = this.byte('an object');
    if (head === TAG_NIL) return null;
    if (head !== TAG_NEW) {
      const index = this.reference(head, this.table.length, 'object');
      if ((this.table[index] as TableEntry).kind === 'cstring') this.fail(`reference ${index} is not an object`);
      return { classNames: [], firstBytes: undefined, firstObject: undefined };
    }
    this.table.push({ kind: 'object' });
    const classNames = this.classChain();
    if (classNames.length === 0) this.fail('an object without a class');
    const info: ObjectInfo = { classNames, firstBytes: undefined, firstObject: undefined };
    for (;;) {
      if (this.peek('the end of an object') === TAG_END) {
        this.pos++;
        return info;
      }
      this.group(depth + 1, info);
    }
  }

  private cString(): void {
    const head = this.byte('a C string');
    if (head === TAG_NIL) return;
    if (head === TAG_NEW) {
      if (this.sharedString('a C string') === null) this.fail('an empty C string');
      this.table.push({ kind: 'cstring' });
      return;
    }
    this.reference(head, this.table.length, 'object');
  }

  private value(node: TypeNode, depth: number, into: ObjectInfo | undefined): void {
    switch (node.k) {
      case 'int':
        this.int('an integer');
        return;
      case 'float':
        this.float(node.size);
        return;
      case 'object': {
        const object = this.object(depth);
        if (into && into.firstObject === undefined) into.firstObject = object;
        return;
      }
      case 'class':
        this.classChain();
        return;
      case 'selector':
        this.sharedString('a selector');
        return;
      case 'cstring':
        this.cString();
        return;
      case 'bytes': {
        const bytes = this.lengthPrefixed('a string');
        if (into && into.firstBytes === undefined) into.firstBytes = bytes;
        return;
      }
      case 'chars':
        this.need(node.count, 'a character array');
        this.pos += node.count;
        return;
      case 'array':
        // Every element reads at least one byte, so a huge count stops at the end of the blob.
        for (let i = 0; i < node.count; i++) this.value(node.element, depth, undefined);
        return;
      case 'struct':
        for (const field of node.fields) this.value(field, depth, undefined);
        return;
    }
  }

  private group(depth: number, into: ObjectInfo | undefined): void {
    const encoding = this.sharedString('a type encoding');
    if (encoding === null) this.fail('a nil type encoding');
    for (const node of parseTypeEncoding(encoding)) this.value(node, depth, into);
  }

  /** Parses the whole stream and returns its root objects' info. */
  read(): ObjectInfo {
    const version = this.byte('the header');
    if (version !== 4 && version !== 3) this.fail(`not a typedstream (version byte ${hex(version)})`);
    const signature = latin1(this.lengthPrefixed('the signature'));
    if (signature === 'typedstream') this.fail('a big-endian typedstream (only "streamtyped" is supported)');
    if (signature !== 'streamtyped') this.fail('not a typedstream (no "streamtyped" signature)');
    this.int('the system version');
    const root: ObjectInfo = { classNames: [], firstBytes: undefined, firstObject: undefined };
    if (this.pos >= this.bytes.length) this.fail('truncated: nothing after the header');
    while (this.pos < this.bytes.length) this.group(0, root);
    return root;
  }
}

function textOf(root: ObjectInfo): string {
  const top = root.firstObject;
  if (!top) throw new DecodeError('the stream holds no object');
  const isString = (info: ObjectInfo) => info.classNames.some((name) => name === 'NSString' || name === 'NSMutableString');
  const isAttributed = top.classNames.some((name) => name.endsWith('AttributedString'));
  const string = isAttributed ? top.firstObject : isString(top) ? top : undefined;
  if (!string) throw new DecodeError(`the root object is ${top.classNames[0] ? `a ${printable(top.classNames[0])}` : 'a reference'}, not an attributed string`);
  if (string.classNames.length > 0 && !isString(string)) throw new DecodeError(`the string is a ${printable(string.classNames[0] ?? '?')}, not an NSString`);
  if (!string.firstBytes) throw new DecodeError('the string has no contents');
  try {
    return utf8.decode(string.firstBytes);
  } catch {
    throw new DecodeError('the string is not valid UTF-8');
  }
}

function attempt(bytes: Uint8Array, forced?: { at: number; length: number }): { text: string } | { error: string; overrunAt: number } {
  const reader = new TypedStreamReader(bytes, forced);
  try {
    return { text: textOf(reader.read()) };
  } catch (error) {
    if (error instanceof DecodeError) return { error: error.message, overrunAt: reader.overrunAt };
    return { error: `unexpected failure: ${error instanceof Error ? error.message : String(error)}`, overrunAt: -1 };
  }
}

/**
 * Returns the text of an attributedBody blob. Some real blobs declare a string longer than the bytes that follow
 * (the string was shortened without its length): then the string is taken to end at the end-of-object marker after
 * which the rest of the stream parses completely, and only if such an end exists.
 */
export function decodeAttributedBody(blob: Uint8Array): TypedStreamResult {
  if (blob.length === 0) return { ok: false, error: 'attributedBody is empty' };
  const first = attempt(blob);
  if ('text' in first) return { ok: true, text: first.text };
  if (first.overrunAt >= 0) {
    const lengthBytes = blob[first.overrunAt] === TAG_INT16 ? 3 : blob[first.overrunAt] === TAG_INT32 ? 5 : 1;
    const start = first.overrunAt + lengthBytes;
    for (let end = start; end < blob.length; end++) {
      if (blob[end] !== TAG_END) continue;
      const retry = attempt(blob, { at: first.overrunAt, length: end - start });
      if ('text' in retry) return { ok: true, text: retry.text };
    }
  }
  return { ok: false, error: `cannot decode attributedBody: ${first.error}` };
}
