import { z } from 'zod';
import type { EffectKind } from '../common/effects.js';
import type { Provenance } from '../common/messages.js';
import type { ToolSpec } from '../llm/provider.js';

export interface ToolContext {
  readonly sessionId: string;
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
  /** One line a human can read before approving this exact call. */
  describe(input: Input): string;
  execute(input: Input, context: ToolContext): Promise<ToolOutput | string> | ToolOutput | string;
}

const TOOL_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;

export function defineTool<S extends z.ZodType>(tool: {
  name: string;
  description: string;
  input: S;
  effects: readonly EffectKind[];
  describe: (input: z.infer<S>) => string;
  execute: (input: z.infer<S>, context: ToolContext) => Promise<ToolOutput | string> | ToolOutput | string;
}): Tool<z.infer<S>> {
  return tool as Tool<z.infer<S>>;
}

/** A name-keyed registry. Lookups go through a Map: the model chooses the names. */
export class ToolRegistry {
  readonly #tools = new Map<string, Tool>();

  register<I>(tool: Tool<I>): this {
    if (!TOOL_NAME.test(tool.name)) throw new Error(`Tool name "${tool.name}" is not a valid identifier.`);
    if (!Array.isArray(tool.effects)) {
      throw new Error(`Tool "${tool.name}" declares no effects; declare [] for a tool without effects.`);
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

function toInputSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}
