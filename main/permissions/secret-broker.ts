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
 * value can start at within a 3-byte group.
 */
function base64Cores(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  return [0, 1, 2].map((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const start = offset === 0 ? 0 : 4; // the first group mixes in bytes that are not the value's
    const usable = Math.floor((offset + bytes.length) / 3) * 4; // the last, partial group mixes in what follows
    return encoded.slice(start, usable);
  }).filter((core) => core.length >= 12);
}

/**
 * Holds secret values only to substitute them where a request leaves and to scrub them everywhere else
 * (invariant 2). Any known value appearing in a tool result, a log line or a model request becomes
 * `[secret:NAME]`.
 */
export class SecretBroker {
  readonly #values = new Map<string, string>();
  /** Base64 fragments that can only come from encoding a secret, at each of the three byte alignments. */
  readonly #encoded = new Map<string, string[]>();

  constructor(private readonly store: SecretStore) {}

  /** Loads every stored secret's value, plus extra values (e.g. a key from the environment) under a name. */
  async load(extra: Readonly<Record<string, string | undefined>> = {}): Promise<void> {
    this.#values.clear();
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
    if (value.length >= MIN_ENCODED_LENGTH) this.#encoded.set(name, base64Cores(value));
  }

  names(): string[] {
    return [...this.#values.keys()];
  }

  redact(text: string): string {
    let out = text;
    // Longest first so a secret containing another is replaced whole.
    const entries = [...this.#values.entries()].sort((a, b) => b[1].length - a[1].length);
    for (const [name, value] of entries) if (out.includes(value)) out = out.split(value).join(`[secret:${name}]`);
    // Encoded copies too (a Docker `auth` is base64 of "user:token"): the whole base64 run holding one goes.
    for (const [name, cores] of this.#encoded) {
      if (!cores.some((core) => out.includes(core))) continue;
      out = out.replace(/[A-Za-z0-9+/]{16,}={0,2}/g, (run) => (cores.some((core) => run.includes(core)) ? `[secret:${name}]` : run));
    }
    return out;
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
    for (const secret of this.#values.values()) if (text.includes(secret)) return true;
    return false;
  }

  /** Replaces handles with values. Only for the moment a request leaves; never store the result. */
  async substitute(text: string): Promise<string> {
    const names = [...new Set([...text.matchAll(secretHandlePattern())].map((match) => match[1] as string))];
    let out = text;
    for (const name of names) {
      const value = this.#values.get(name) ?? (await this.store.get(name));
      if (value === undefined) throw new Error(`No secret named "${name}"; store it with \`pavise secrets set ${name}\`.`);
      out = out.split(secretHandle(name)).join(value);
    }
    return out;
  }
}
