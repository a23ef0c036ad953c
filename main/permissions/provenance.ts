import { deviceDataTargets, type Effect } from '../common/effects.js';
import type { Message, Provenance, UntrustedSource } from '../common/messages.js';
import { FALLBACK_REGION, canonicalPhone } from '../identity/handles.js';

/**
 * Where the values in a tool call came from. A value (recipient, address, URL, host, path, amount, short argument)
 * is "owner" when the owner wrote it, "contact" when only an approved contact did, "untrusted" when it occurs only
 * in untrusted content, and "model" when it occurs nowhere — the model produced it.
 */
export type ValueOrigin =
  | { readonly kind: 'owner'; readonly inThisTurn: boolean }
  | { readonly kind: 'contact'; readonly contactId: string }
  | { readonly kind: 'untrusted'; readonly source: UntrustedSource; readonly detail?: string }
  | { readonly kind: 'model' };

export interface ArgumentOrigin {
  /** Where in the call the value sits: an input path ("to", "body.cc[0]") or an effect field ("effect.recipient"). */
  readonly path: string;
  readonly value: string;
  readonly origin: ValueOrigin;
}

export interface TurnProvenance {
  /** Who started the turn. */
  readonly trigger: Provenance;
  /** Untrusted content entered this turn (or started it). */
  readonly tainted: boolean;
  readonly taintSources: readonly { readonly source: UntrustedSource; readonly detail?: string }[];
  /** A tool that reads the owner's private data ran in this turn. */
  readonly readPrivateData: boolean;
}

export interface CallProvenance extends TurnProvenance {
  readonly argOrigins: readonly ArgumentOrigin[];
}

/** Index of the message that started the current turn: the last user message. */
export function turnStart(context: readonly Message[]): number {
  for (let index = context.length - 1; index >= 0; index--) if (context[index]?.role === 'user') return index;
  return 0;
}

/**
 * A turn is as trusted as the least trusted thing in the model's context: untrusted text and a contact's words stay
 * there after the turn that read them, and a fooled model can act on them later ("now write that to ~/.zshrc"). So
 * taint covers the whole history sent to the model, not a window of turns. A contact's words are data for any effect,
 * like a stranger's; they taint the turn as a non-owner sender named by the contact.
 */
export function analyzeTurn(context: readonly Message[], privateReaders: ReadonlySet<string>): TurnProvenance {
  const start = turnStart(context);
  const trigger = context[start]?.role === 'user' ? (context[start] as { provenance: Provenance }).provenance : { kind: 'owner' as const };
  const taintSources: { source: UntrustedSource; detail?: string }[] = [];
  const addSource = (source: UntrustedSource, detail: string | undefined): void => {
    if (!taintSources.some((known) => known.source === source && known.detail === detail)) {
      taintSources.push(detail === undefined ? { source } : { source, detail });
    }
  };
  let readPrivateData = false;
  for (const message of context) {
    // A reply carries a label only when the model wrote it after reading someone else's memory (TurnRunner).
    if (message.provenance === undefined) continue;
    if (message.provenance.kind === 'untrusted') addSource(message.provenance.source, message.provenance.detail);
    if (message.provenance.kind === 'contact') addSource('non_owner_sender', `your contact ${message.provenance.contactId}`);
    if (message.role === 'toolResult' && !message.isError && privateReaders.has(message.toolName)) readPrivateData = true;
  }
  return { trigger, tainted: taintSources.length > 0, taintSources, readPrivateData };
}

interface Corpus {
  readonly text: string;
  readonly digits: string;
  /** Every phone number written in the text, as E.164. */
  readonly phones: ReadonlySet<string>;
  /** Whether a phone number may also match on its last ten digits anywhere in the text (never for the owner). */
  readonly loose: boolean;
}

function corpusOf(messages: readonly Message[], region: string, loose: boolean): Corpus {
  const text = normalize(messages.map(contentOf).join('\n'));
  const phones = new Set<string>();
  for (const match of text.matchAll(PHONE_IN_TEXT)) {
    const phone = canonicalPhone(match[0], region);
    if (phone) phones.add(phone);
  }
  return { text, digits: text.replace(/[^0-9]/g, ''), phones, loose };
}

function contentOf(message: Message): string {
  if (message.role === 'assistant') return '';
  return message.content;
}

/**
 * Finds the origin of every identifying value in a call's input and effects, searching the whole context (what the
 * model could have copied from), with owner content taking precedence. A value counts as the owner's only when the
 * owner wrote it whole: a phone number as the same E.164 number (numbers without a country code read in `region`),
 * a name as the whole name — never a matching tail of digits or one word of it.
 */
export function originsOf(
  context: readonly Message[],
  input: unknown,
  effects: readonly Effect[],
  region: string = FALLBACK_REGION,
): ArgumentOrigin[] {
  const start = turnStart(context);
  const bySource = (predicate: (provenance: Provenance) => boolean, from = 0) =>
    context.slice(from).filter((message): message is Exclude<Message, { role: 'assistant' }> => message.role !== 'assistant' && predicate(message.provenance));
  const ownerAll = corpusOf(bySource((p) => p.kind === 'owner').filter((m) => !(m.role === 'toolResult' && m.isError)), region, false);
  const ownerTurn = corpusOf(bySource((p) => p.kind === 'owner', start).filter((m) => m.role === 'user'), region, false);
  const contacts = bySource((p) => p.kind === 'contact');
  const untrusted = bySource((p) => p.kind === 'untrusted');

  const values = new Map<string, string>();
  for (const [path, value] of candidateValues(input, '')) if (!values.has(`${path}\u0000${value}`)) values.set(`${path}\u0000${value}`, value);
  effects.forEach((effect, index) => {
    for (const [field, value] of effectTargets(effect)) values.set(`effect${index}.${field}\u0000${value}`, value);
  });

  const origins: ArgumentOrigin[] = [];
  for (const [key, value] of values) {
    const path = key.slice(0, key.indexOf('\u0000'));
    const origin = locate(value, ownerAll, ownerTurn, contacts, untrusted, region);
    origins.push({ path, value, origin });
  }
  return origins;
}

function locate(
  value: string,
  ownerAll: Corpus,
  ownerTurn: Corpus,
  contacts: readonly Exclude<Message, { role: 'assistant' }>[],
  untrusted: readonly Exclude<Message, { role: 'assistant' }>[],
  region: string,
): ValueOrigin {
  if (occursIn(value, ownerAll, region)) return { kind: 'owner', inThisTurn: occursIn(value, ownerTurn, region) };
  for (const message of contacts) {
    if (message.provenance.kind === 'contact' && occursIn(value, corpusOf([message], region, true), region)) {
      return { kind: 'contact', contactId: message.provenance.contactId };
    }
  }
  for (const message of untrusted) {
    if (message.provenance.kind === 'untrusted' && occursIn(value, corpusOf([message], region, true), region)) {
      const { source, detail } = message.provenance;
      return detail === undefined ? { kind: 'untrusted', source } : { kind: 'untrusted', source, detail };
    }
  }
  return { kind: 'model' };
}

function occursIn(value: string, corpus: Corpus, region: string): boolean {
  const normalized = normalize(value);
  if (normalized.length === 0) return false;
  if (includesAsToken(corpus.text, normalized)) return true;
  const digits = normalized.replace(/[^0-9]/g, '');
  if (!PHONE.test(normalized) || digits.length < 7) return false;
  // Phone numbers are written many ways (+1 555-000 9999, (555) 000-9999): compare them as E.164. Where a wider
  // match only makes a value less trusted (contacts, untrusted text), the last ten digits anywhere also count.
  const phone = canonicalPhone(normalized, region);
  if (phone !== undefined && corpus.phones.has(phone)) return true;
  return corpus.loose && corpus.digits.includes(digits.slice(-10));
}

/**
 * A whole-token occurrence: "pher.jones@gmail.com" does not occur in "christopher.jones@gmail.com", nor "get" in
 * "budget". Identifier characters may not touch the match on either side.
 */
function includesAsToken(haystack: string, needle: string): boolean {
  const first = needle[0] ?? '';
  const last = needle.at(-1) ?? '';
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    const before = haystack[at - 1];
    const after = haystack[at + needle.length];
    const afterNext = haystack[at + needle.length + 1];
    const startOk = before === undefined || !IDENTIFIER.test(first) || !(IDENTIFIER.test(before) || before === '.');
    // A sentence's closing period may follow a value; a dot that continues a name ("x.com" after "x") may not.
    const endOk =
      after === undefined || !IDENTIFIER.test(last) || !(IDENTIFIER.test(after) || (after === '.' && afterNext !== undefined && IDENTIFIER.test(afterNext)));
    if (startOk && endOk) return true;
  }
  return false;
}

const IDENTIFIER = /[\p{L}\p{N}_@%+-]/u;

function normalize(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"')\]]+/gi;
const PHONE = /^\+?[\d\s().-]{7,20}$/;
const PHONE_IN_TEXT = /\+?\d[\d\s().-]{6,18}\d/g;
const PATH_IN_TEXT = /(?:~|\.{0,2})\/[\w.\-/~]+/g;
// € and £ as escapes: one non-ASCII character in a bundled chunk makes V8 hold that chunk's whole source at two
// bytes a character (test/architecture/start-path.test.ts).
const AMOUNT_IN_TEXT = /[$\u20AC\u00A3]\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s?(?:usd|eur|gbp|dollars?)/gi;

/** Short argument values are checked whole; long ones (message bodies) only for the identifiers inside them. */
const WHOLE_VALUE_LIMIT = 120;

function* candidateValues(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.length >= 3 && trimmed.length <= WHOLE_VALUE_LIMIT) yield [path || 'input', trimmed];
    for (const pattern of [EMAIL, URL_PATTERN, PHONE_IN_TEXT, PATH_IN_TEXT, AMOUNT_IN_TEXT]) {
      for (const match of trimmed.matchAll(pattern)) if (match[0] !== trimmed) yield [path || 'input', match[0]];
    }
    for (const match of trimmed.matchAll(URL_PATTERN)) {
      const host = hostOf(match[0]);
      if (host) yield [path || 'input', host];
    }
    return;
  }
  if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) >= 100) {
    yield [path || 'input', String(value)];
    return;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* candidateValues(item, `${path}[${index}]`);
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) yield* candidateValues(child, path ? `${path}.${key}` : key);
  }
}

function* effectTargets(effect: Effect): Generator<[string, string]> {
  switch (effect.kind) {
    case 'send_message':
      if (effect.recipient) yield ['recipient', effect.recipient];
      if (effect.via && effect.via !== effect.recipient) yield ['via', effect.via];
      // The whole name only: one word of it ("What" of "What Ever") is ordinary text, not a choice of recipient.
      if (effect.name) yield ['name', effect.name];
      break;
    case 'network':
      if (effect.host) yield ['host', effect.host];
      if (effect.url) yield ['url', effect.url];
      break;
    case 'execute':
      for (const [index, arg] of effect.argv.entries()) if (arg.trim().length >= 2) yield [`argv[${index}]`, arg];
      break;
    case 'delete':
      yield ['target', effect.target];
      break;
    case 'spend':
      if (Number.isFinite(effect.amountUsd)) yield ['amount', String(effect.amountUsd)];
      break;
    case 'write_local':
      if (effect.path) yield ['path', effect.path];
      break;
    case 'control_device': {
      yield ['entity', effect.entity];
      // What the service data has the device fetch, and the other devices it names, are targets too.
      const { urls, entities } = deviceDataTargets(effect);
      for (const [index, url] of urls.entries()) {
        yield [`dataUrl[${index}]`, url];
        const host = hostOf(url);
        if (host) yield [`dataHost[${index}]`, host];
      }
      for (const [index, entity] of entities.entries()) yield [`dataEntity[${index}]`, entity];
      break;
    }
    default:
      break;
  }
}

export function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
}

/** The origin of one effect's main target (recipient, host, command, path), if it has one. */
export function targetOrigin(effectIndex: number, origins: readonly ArgumentOrigin[], field: string): ArgumentOrigin | undefined {
  return origins.find((origin) => origin.path === `effect${effectIndex}.${field}`);
}
