import type { Effect } from '../common/effects.js';
import type { ToolSpec } from '../llm/provider.js';
import { checkDescriptor, evaluateEffects, labelOutput, summarize, type EffectHost } from './effect-templates.js';
import { unsupportedKeywords, validateJson } from './json-schema.js';
import type { ParseResult, ToolCallContext, ToolDescriptor, ToolResult, ToolSource } from './source.js';

/**
 * Each call's evaluation, keyed by its input object: the agent loop freezes the validated input and hands the same
 * object to the gate and to the call, so the effects the owner approved are the ones the call receives, and a name
 * is resolved once (a conversation renamed while a card waits changes nothing).
 */
const evaluations = new WeakMap<object, { readonly effects: readonly Effect[]; readonly title: string }>();

/** One tool as the host knows it: its checked descriptor and the source that runs it. */
export interface RegisteredTool {
  readonly name: string;
  readonly descriptor: ToolDescriptor;
  readonly source: ToolSource;
}

/**
 * The tools of every source, by name (a Map: the model chooses the names). It gives the agent loop its specs,
 * validates and dispatches calls, and is where the host evaluates descriptors for the gate.
 */
export class ToolRegistry {
  readonly #tools: Map<string, RegisteredTool>;
  #deferred: (() => Promise<readonly ToolSource[]>) | undefined;
  #joining: Promise<void> | undefined;

  constructor(tools: Iterable<RegisteredTool>, readonly host: EffectHost = {}) {
    this.#tools = new Map([...tools].map((tool) => [tool.name, tool]));
  }

  /**
   * Sources that are costly to start (MCP servers: a sandboxed process each) are joined at the first `ready()`, not
   * at start-up. A deferred tool whose name is taken or whose descriptor is bad is left out and `onRefused` says why;
   * the tools already loaded stay.
   */
  defer(load: () => Promise<readonly ToolSource[]>, onRefused: (message: string) => void): void {
    this.#deferred = async () => {
      const sources = await load();
      for (const source of sources) {
        for (const descriptor of await source.list(new AbortController().signal)) {
          try {
            checkDescriptor(descriptor, source.id);
            if (this.#tools.has(descriptor.name)) throw new Error(`Tool "${descriptor.name}" from source "${source.id}" is left out: the name is taken.`);
          } catch (error) {
            onRefused((error as Error).message);
            continue;
          }
          this.#tools.set(descriptor.name, { name: descriptor.name, descriptor: Object.freeze(structuredClone(descriptor)), source });
        }
      }
      return sources;
    };
  }

  /** Joins the deferred sources once (every later call waits for the same join); never throws. */
  ready(): Promise<void> {
    const load = this.#deferred;
    if (!load) return Promise.resolve();
    this.#joining ??= load().then(
      () => undefined,
      () => undefined,
    );
    return this.#joining;
  }

  /** Lists every source once and checks every descriptor; a bad descriptor or a name used twice refuses them all. */
  static async load(sources: readonly ToolSource[], host: EffectHost = {}, signal: AbortSignal = new AbortController().signal): Promise<ToolRegistry> {
    const tools = new Map<string, RegisteredTool>();
    const seen = new Set<string>();
    for (const source of sources) {
      if (seen.has(source.id)) throw new Error(`Tool source "${source.id}" is registered twice.`);
      seen.add(source.id);
      for (const descriptor of await source.list(signal)) {
        checkDescriptor(descriptor, source.id);
        if (!source.parse) {
          const unsupported = unsupportedKeywords(descriptor.inputSchema);
          if (unsupported.length > 0) {
            throw new Error(`Tool "${descriptor.name}" from source "${source.id}" is refused: its inputSchema uses ${unsupported.join(', ')}, which the host cannot check.`);
          }
        }
        const existing = tools.get(descriptor.name);
        if (existing) throw new Error(`Tool "${descriptor.name}" is registered twice (sources "${existing.source.id}" and "${source.id}").`);
        tools.set(descriptor.name, { name: descriptor.name, descriptor: Object.freeze(structuredClone(descriptor)), source });
      }
    }
    return new ToolRegistry(tools.values(), host);
  }

  get(name: string): RegisteredTool | undefined {
    return this.#tools.get(name);
  }

  list(): RegisteredTool[] {
    return [...this.#tools.values()];
  }

  specs(): ToolSpec[] {
    return this.list().map(({ descriptor }) => ({
      name: descriptor.name,
      description: descriptor.description,
      inputSchema: structuredClone(descriptor.inputSchema) as Record<string, unknown>,
    }));
  }

  /** Tools whose descriptors declare no effect: what a contact's or a group's turn may use. */
  effectFree(): ToolRegistry {
    return new ToolRegistry(this.list().filter((tool) => tool.descriptor.effects.length === 0), this.host);
  }

  /** The source's own validation for host sources (zod), the descriptor's JSON Schema for every other. */
  validate(tool: RegisteredTool, input: unknown): ParseResult {
    if (tool.source.parse) return tool.source.parse(tool.name, input);
    const problems = validateJson(tool.descriptor.inputSchema, input);
    return problems.length === 0 ? { success: true, data: input } : { success: false, problems: problems.join('; ') };
  }

  /**
   * Lets the host bring what it resolves names with (the address book) up to date before a call is evaluated, once
   * per call; never throws, and a host that cannot refresh resolves with what it has.
   */
  async prepare(tool: RegisteredTool, input: unknown, signal?: AbortSignal): Promise<void> {
    if (!this.host.prepare || (typeof input === 'object' && input !== null && evaluations.has(input))) return;
    try {
      await this.host.prepare(tool.descriptor, input, signal);
    } catch {
      // Resolution then uses what the host already knows; nothing is decided here.
    }
  }

  /** The call's concrete effects and its approval line, from the descriptor alone. Throws when they cannot be known. */
  evaluate(tool: RegisteredTool, input: unknown): { readonly effects: readonly Effect[]; readonly title: string } {
    const known = typeof input === 'object' && input !== null ? evaluations.get(input) : undefined;
    if (known) return known;
    const effects = evaluateEffects(tool.descriptor, input, this.host);
    const evaluation = { effects, title: summarize(tool.descriptor, input, effects) };
    if (typeof input === 'object' && input !== null) evaluations.set(input, evaluation);
    return evaluation;
  }

  /** Runs a validated call in its source and applies the descriptor's output label to the result. */
  async call(tool: RegisteredTool, input: unknown, context: ToolCallContext): Promise<ToolResult> {
    const effects = typeof input === 'object' && input !== null ? evaluations.get(input)?.effects : undefined;
    const result = await tool.source.call(tool.name, input, effects ? { ...context, effects } : context);
    return labelOutput(tool.descriptor.output, result, tool.name);
  }
}
