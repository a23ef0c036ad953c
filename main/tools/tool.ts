import { z } from 'zod';
import { EFFECT_KINDS, type Effect, type EffectKind } from '../common/effects.js';
import type { Provenance } from '../common/messages.js';
import type { ToolSpec } from '../llm/provider.js';

export interface ToolContext {
  readonly sessionId: string;
  /** The model's id for this call: stable across a retried execution, so usable as an idempotency key. */
  readonly callId: string;
  readonly signal: AbortSignal;
}

/** What a tool hands back to the model. Provenance defaults to the provenance of the tool's trigger. */
export interface ToolOutput {
  readonly content: string;
  readonly isError?: boolean;
  readonly provenance?: Provenance;
}

export interface Tool<Input = unknown> {
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType<Input>;
  /** Declared effects; `[]` means "no effect". Required: a tool without a declaration is refused at registration. */
  readonly effects: readonly EffectKind[];
  /**
   * The concrete effects of one call, with their targets (recipient, host, argv…). Each must be of a declared kind;
   * tools whose effects have no target may omit this and get one effect per declared kind.
   */
  effectsOf?(input: Input): readonly Effect[];
  /** One line a human can read before approving this exact call. */
  describe(input: Input): string;
  execute(input: Input, context: ToolContext): Promise<ToolOutput | string> | ToolOutput | string;
}

/** Effects whose meaning depends on a target (who, where, what command, how much). */
const TARGETED_KINDS: ReadonlySet<EffectKind> = new Set(['send_message', 'execute', 'network', 'spend', 'delete']);

const TOOL_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;

export function defineTool<S extends z.ZodType>(tool: {
  name: string;
  description: string;
  input: S;
  effects: readonly EffectKind[];
  effectsOf?: (input: z.infer<S>) => readonly Effect[];
  describe: (input: z.infer<S>) => string;
  execute: (input: z.infer<S>, context: ToolContext) => Promise<ToolOutput | string> | ToolOutput | string;
}): Tool<z.infer<S>> {
  return tool as Tool<z.infer<S>>;
}

/** The concrete effects of one call; a tool that names an undeclared kind is a programming error, caught here. */
export function effectsOfCall(tool: Tool, input: unknown): readonly Effect[] {
  const effects: readonly Effect[] = tool.effectsOf
    ? tool.effectsOf(input)
    : tool.effects.map((kind) => targetlessEffect(kind, tool.describe(input)));
  for (const effect of effects) {
    if (!tool.effects.includes(effect.kind)) {
      throw new Error(`Tool "${tool.name}" produced an undeclared "${effect.kind}" effect.`);
    }
  }
  return effects;
}

function targetlessEffect(kind: EffectKind, what: string): Effect {
  switch (kind) {
    case 'read_private':
    case 'write_local':
    case 'modify_calendar':
      return { kind, what };
    case 'delete':
      return { kind, target: what };
    case 'spend':
      return { kind, amountUsd: Number.NaN, what };
    case 'execute':
      return { kind, argv: [what] };
    case 'network':
      return { kind, host: '' };
    case 'send_message':
      return { kind, channel: '', recipient: '', text: what };
  }
}

/** A name-keyed registry. Lookups go through a Map: the model chooses the names. */
export class ToolRegistry {
  readonly #tools = new Map<string, Tool>();

  register<I>(tool: Tool<I>): this {
    if (!TOOL_NAME.test(tool.name)) throw new Error(`Tool name "${tool.name}" is not a valid identifier.`);
    if (!Array.isArray(tool.effects)) {
      throw new Error(`Tool "${tool.name}" declares no effects; declare [] for a tool without effects.`);
    }
    const unknown = tool.effects.filter((kind) => !EFFECT_KINDS.includes(kind));
    if (unknown.length > 0) throw new Error(`Tool "${tool.name}" declares unknown effects: ${unknown.join(', ')}.`);
    const targeted = tool.effects.filter((kind) => TARGETED_KINDS.has(kind));
    if (targeted.length > 0 && !tool.effectsOf) {
      throw new Error(`Tool "${tool.name}" has ${targeted.join(', ')} effects and must say their targets with effectsOf().`);
    }
    if (this.#tools.has(tool.name)) throw new Error(`Tool "${tool.name}" is registered twice.`);
    this.#tools.set(tool.name, tool as Tool);
    return this;
  }

  get(name: string): Tool | undefined {
    return this.#tools.get(name);
  }

  list(): Tool[] {
    return [...this.#tools.values()];
  }

  specs(): ToolSpec[] {
    return this.list().map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: toInputSchema(tool.input),
    }));
  }
}

/** A tool's schema is fixed, and converting it costs more than the rest of a model request: done once per schema. */
const inputSchemas = new WeakMap<z.ZodType, Readonly<Record<string, unknown>>>();

function toInputSchema(schema: z.ZodType): Record<string, unknown> {
  const cached = inputSchemas.get(schema);
  if (cached) return structuredClone(cached);
  const json = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  delete json.$schema;
  inputSchemas.set(schema, json);
  return structuredClone(json);
}
