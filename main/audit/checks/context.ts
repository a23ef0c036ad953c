import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Config } from '../../common/config-schema.js';
import { API_KEY_VARIABLES } from '../../common/providers.js';
import { loadConfig } from '../../config/config.js';
import { defaultPaviseHome, homePaths, paviseHome, type HomePaths } from '../../config/paths.js';
import { openDatabase, type Database } from '../../storage/database.js';
import { KeychainSecretStore, keychainServiceFor } from '../../secrets/keychain-secret-store.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { errorSentence, type KnownSecret, MIN_SECRET_LENGTH } from './text.js';

export { MIN_SECRET_LENGTH, type KnownSecret };

/**
 * What every audit check sees. Every check reads, never writes: the database is opened read-only, the SecretStore is
 * only listed and read, and nothing is created in a home that does not exist yet. No message or fix ever contains a
 * secret's value: findings name the place (field, table and row, file and line) and the kind.
 */

export type AuditSeverity = 'ok' | 'info' | 'warn' | 'critical';

export interface AuditCheck {
  /** Stable kebab-case id; one check may report several findings under the same id. */
  readonly id: string;
  readonly severity: AuditSeverity;
  readonly message: string;
  /** What to do; empty when there is nothing to do. */
  readonly fix: string;
}

export interface AuditReport {
  readonly checks: AuditCheck[];
}

export interface AuditOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly platform: NodeJS.Platform;
  /** Scan every row and whole log files, and also inspect the audit's own process tree for listeners. */
  readonly deep: boolean;
  /** Defaults to the Keychain / Secret Service entry for the home, as `compose` uses. */
  readonly secrets?: SecretStore;
  readonly now?: number;
}

export type Finding = Omit<AuditCheck, 'id'>;
export type Check = (audit: Audit) => Promise<Finding | Finding[]>;

/** One check in the registry: a stable kebab-case id and the function that produces its findings. */
export interface AuditCheckDefinition {
  readonly id: string;
  readonly run: Check;
}

/** Stored values shorter than this are not compared: they would match ordinary text. */

export type SecretsState =
  | { readonly ok: true; readonly names: readonly string[]; readonly values: ReadonlyMap<string, string>; readonly unreadable: readonly string[] }
  | { readonly ok: false; readonly error: string };

export type DatabaseState = { readonly kind: 'missing' } | { readonly kind: 'open'; readonly db: Database } | { readonly kind: 'error'; readonly message: string };

export interface RawConfig {
  readonly exists: boolean;
  readonly text?: string;
  readonly json?: unknown;
  readonly readError?: string;
  readonly jsonError?: string;
}

/** What the checks share, each piece computed once on first use. */
export class Audit {
  readonly env: NodeJS.ProcessEnv;
  readonly platform: NodeJS.Platform;
  readonly deep: boolean;
  readonly now: number;
  readonly paths: HomePaths;
  readonly store: SecretStore;
  #secrets: Promise<SecretsState> | undefined;
  #database: DatabaseState | undefined;
  #rawConfig: Promise<RawConfig> | undefined;
  #config: { readonly config?: Config; readonly error?: unknown } | undefined;

  constructor(options: AuditOptions) {
    this.env = options.env;
    this.platform = options.platform;
    this.deep = options.deep;
    this.now = options.now ?? Date.now();
    const home = paviseHome(options.env, options.platform);
    this.paths = homePaths(home);
    this.store = options.secrets ?? new KeychainSecretStore(keychainServiceFor(home, defaultPaviseHome(options.env, options.platform)));
  }

  /** Names and values in the SecretStore. After one failure the store is not asked again (no repeated unlock prompts). */
  secrets(): Promise<SecretsState> {
    this.#secrets ??= (async (): Promise<SecretsState> => {
      let names: string[];
      try {
        names = await this.store.list();
      } catch (error) {
        return { ok: false, error: errorSentence(error) };
      }
      const values = new Map<string, string>();
      const unreadable: string[] = [];
      for (const name of names) {
        try {
          const value = await this.store.get(name);
          if (value !== undefined) values.set(name, value);
        } catch {
          unreadable.push(name);
        }
      }
      return { ok: true, names, values, unreadable };
    })();
    return this.#secrets;
  }

  /** Stored values and provider keys from the environment, for substring comparison. */
  async knownSecrets(): Promise<KnownSecret[]> {
    const state = await this.secrets();
    const candidates: { label: string; value: string }[] = [];
    if (state.ok) for (const [name, value] of state.values) candidates.push({ label: `the stored secret "${name}"`, value });
    for (const variable of API_KEY_VARIABLES) {
      const value = this.env[variable]?.trim();
      if (value) candidates.push({ label: `the value of ${variable}`, value });
    }
    const seen = new Set<string>();
    const known: KnownSecret[] = [];
    for (const { label, value } of candidates) {
      if (value.length < MIN_SECRET_LENGTH || seen.has(value)) continue;
      seen.add(value);
      const escaped = JSON.stringify(value).slice(1, -1);
      known.push({ label, value, needles: escaped === value ? [value] : [value, escaped] });
    }
    return known;
  }

  async allNeedles(): Promise<string[]> {
    // Only what was already fetched: the final redaction must not be the first thing to touch the Keychain.
    if (this.#secrets === undefined) {
      return API_KEY_VARIABLES.flatMap((name) => {
        const value = this.env[name]?.trim();
        return value && value.length >= MIN_SECRET_LENGTH ? [value] : [];
      });
    }
    return (await this.knownSecrets()).flatMap((secret) => secret.needles);
  }

  /** The database opened read-only (never created, migrated or chmodded), or why not. */
  database(): DatabaseState {
    if (this.#database) return this.#database;
    if (!existsSync(this.paths.database)) {
      this.#database = { kind: 'missing' };
    } else {
      try {
        this.#database = { kind: 'open', db: openDatabase(this.paths.database, { readonly: true }) };
      } catch (error) {
        this.#database = { kind: 'error', message: errorSentence(error) };
      }
    }
    return this.#database;
  }

  rawConfig(): Promise<RawConfig> {
    this.#rawConfig ??= (async (): Promise<RawConfig> => {
      let text: string;
      try {
        text = await readFile(this.paths.config, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        return code === 'ENOENT' ? { exists: false } : { exists: true, readError: code ?? errorSentence(error) };
      }
      try {
        return { exists: true, text, json: JSON.parse(text.replace(/^\uFEFF/, '')) as unknown };
      } catch (error) {
        return { exists: true, text, jsonError: errorSentence(error) };
      }
    })();
    return this.#rawConfig;
  }

  config(): { readonly config?: Config; readonly error?: unknown } {
    if (!this.#config) {
      try {
        this.#config = { config: loadConfig(this.paths.config) };
      } catch (error) {
        this.#config = { error };
      }
    }
    return this.#config;
  }

  close(): void {
    if (this.#database?.kind === 'open') this.#database.db.close();
  }
}
