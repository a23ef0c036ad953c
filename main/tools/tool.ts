import { z } from 'zod';
import type { EffectTemplate, OutputLabel, ParseResult, SummaryTemplate, ToolCallContext, ToolDescriptor, ToolResult, ToolSource } from './source.js';

// The agent loop may import only this module of main/tools: the types it is handed come through here.
export type { RegisteredTool, ToolRegistry } from './registry.js';
export type { ToolResult } from './source.js';

/**
 * A tool written in the host with a zod input schema (the built-ins, and tests' tools). Its effects, summary and
 * output label are data in its descriptor; only `execute` is code.
 */
export interface Tool<Input = unknown> {
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType<Input>;
  readonly effects: readonly EffectTemplate[];
  readonly summary: SummaryTemplate;
  readonly output: OutputLabel;
  execute(input: Input, context: ToolCallContext): Promise<ToolResult | string> | ToolResult | string;
}

export function defineTool<S extends z.ZodType>(tool: {
  name: string;
  description: string;
  input: S;
  effects: readonly EffectTemplate[];
  summary: SummaryTemplate;
  output: OutputLabel;
  execute: (input: z.infer<S>, context: ToolCallContext) => Promise<ToolResult | string> | ToolResult | string;
}): Tool<z.infer<S>> {
  return tool as Tool<z.infer<S>>;
}

/** A source over host tools with zod schemas: the descriptors carry the JSON Schema, calls are validated by zod. */
export function zodSource(id: string, tools: readonly Tool[]): ToolSource {
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  return {
    id,
    list: async () =>
      tools.map(
        (tool): ToolDescriptor => ({
          name: tool.name,
          description: tool.description,
          inputSchema: toInputSchema(tool.input),
          effects: tool.effects,
          summary: tool.summary,
          output: tool.output,
        }),
      ),
    parse: (name, input): ParseResult => {
      const tool = byName.get(name);
      if (!tool) return { success: false, problems: `no tool "${name}" in source "${id}"` };
      const parsed = tool.input.safeParse(input);
      if (parsed.success) return { success: true, data: parsed.data };
      return {
        success: false,
        problems: parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || 'input'}: ${issue.message}`).join('; '),
      };
    },
    call: async (name, input, context) => {
      const tool = byName.get(name);
      if (!tool) throw new Error(`No tool "${name}" in source "${id}".`);
      const output = await tool.execute(input, context);
      return typeof output === 'string' ? { content: output } : output;
    },
  };
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
