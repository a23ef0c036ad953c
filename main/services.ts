import { chmodSync, mkdirSync } from 'node:fs';
import type { Config } from './common/config-schema.js';
import { OWNER, type Message, type UserMessage } from './common/messages.js';
import { runTurn, MissingKeyError, type AgentHooks, type TurnResult } from './agent/loop.js';
import type { AgentEvent } from './agent/events.js';
import { loadConfig } from './config/config.js';
import { carapaceHome, defaultCarapaceHome, homePaths, type HomePaths } from './config/paths.js';
import type { Provider, ProviderId } from './llm/provider.js';
import { createProvider } from './llm/create-provider.js';
import { openDatabase } from './memory/database.js';
import { NotesStore } from './memory/notes-store.js';
import { SessionStore } from './memory/session-store.js';
import { buildSystemPrompt, ensureSoul } from './persona/soul.js';
import { providerKeyFromEnv } from './secrets/env-fallback.js';
import { KeychainSecretStore, keychainServiceFor } from './secrets/keychain-secret-store.js';
import type { SecretStore } from './secrets/secret-store.js';
import { currentTimeTool } from './tools/current-time.js';
import { createNoteTools } from './tools/notes.js';
import { ToolRegistry } from './tools/tool.js';

export interface ServiceOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  /** Tests and the Electron shell may supply their own; the default is the Keychain / Secret Service. */
  readonly secrets?: SecretStore;
  readonly provider?: Provider;
}

export interface AskOptions {
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: AgentEvent) => void;
  /** The permission gate; the security issue replaces the default of allowing everything. */
  readonly beforeToolCall?: AgentHooks['beforeToolCall'];
}

/**
 * Where a home's pieces are built and wired together. The CLI, the headless gateway and the Electron shell all
 * construct the assistant through this one function; tools, providers and stores are registered here explicitly.
 */
export class Services {
  readonly paths: HomePaths;
  readonly config: Config;
  readonly secrets: SecretStore;
  readonly sessions: SessionStore;
  readonly notes: NotesStore;
  readonly tools: ToolRegistry;
  readonly #env: NodeJS.ProcessEnv;
  readonly #db: ReturnType<typeof openDatabase>;
  #provider: Provider | undefined;

  constructor(options: ServiceOptions = {}) {
    const env = options.env ?? process.env;
    const platform = options.platform ?? process.platform;
    this.#env = env;
    const home = carapaceHome(env, platform);
    this.paths = homePaths(home);
    mkdirSync(home, { recursive: true, mode: 0o700 });
    chmodSync(home, 0o700);
    this.config = loadConfig(this.paths.config);
    ensureSoul(this.paths.soul);
    this.secrets =
      options.secrets ?? new KeychainSecretStore(keychainServiceFor(home, defaultCarapaceHome(env, platform)));
    this.#db = openDatabase(this.paths.database);
    this.sessions = new SessionStore(this.#db);
    this.notes = new NotesStore(this.#db);
    this.tools = new ToolRegistry().register(currentTimeTool);
    for (const tool of createNoteTools(this.notes)) this.tools.register(tool);
    this.#provider = options.provider;
  }

  get provider(): Provider {
    this.#provider ??= createProvider(this.config.model);
    return this.#provider;
  }

  /** The session the local CLI continues: the most recent one, or a new one. */
  localSession(fresh = false): string {
    const latest = fresh ? undefined : this.sessions.latest('local');
    return latest?.id ?? this.sessions.create('local').id;
  }

  history(sessionId: string): Message[] {
    return this.sessions.messages(sessionId);
  }

  async ask(sessionId: string, text: string, options: AskOptions = {}): Promise<TurnResult> {
    const input: UserMessage = { role: 'user', content: text, provenance: OWNER, timestamp: Date.now() };
    const hooks: AgentHooks = {
      getApiKey: (provider) => this.#apiKey(provider),
      onEvent: (event) => {
        if (event.type === 'message') this.sessions.append(sessionId, event.message);
        options.onEvent?.(event);
      },
      ...(options.beforeToolCall ? { beforeToolCall: options.beforeToolCall } : {}),
    };
    return runTurn({
      sessionId,
      provider: this.provider,
      model: this.config.model.name,
      system: buildSystemPrompt(this.paths.soul),
      tools: this.tools,
      history: this.history(sessionId),
      input,
      limits: { maxSteps: this.config.limits.maxStepsPerTurn, maxTokens: this.config.limits.maxTokensPerTurn },
      maxOutputTokens: this.config.model.maxOutputTokens,
      hooks,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  close(): void {
    this.#db.close();
  }

  async #apiKey(provider: ProviderId): Promise<string | undefined> {
    let stored: string | undefined;
    let keychainProblem: string | undefined;
    try {
      stored = await this.secrets.get(provider);
    } catch (error) {
      keychainProblem = error instanceof Error ? error.message : String(error);
    }
    const key = stored ?? providerKeyFromEnv(provider, this.#env);
    if (key) return key;
    if (provider === 'openai-compatible') return undefined;
    const envName = provider === 'anthropic' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY';
    throw new MissingKeyError(
      `No API key for ${provider}. Store one with \`carapace secrets set ${provider}\` (it reads the key from stdin) ` +
        `or set ${envName}.${keychainProblem ? ` (The Keychain could not be read: ${keychainProblem})` : ''}`,
    );
  }
}

export function createServices(options: ServiceOptions = {}): Services {
  return new Services(options);
}
