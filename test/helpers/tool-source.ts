import { ToolRegistry } from '../../main/tools/registry.js';
import type { ToolSource } from '../../main/tools/source.js';
import { zodSource, type Tool } from '../../main/tools/tool.js';

/** A tool source over a test's own zod tools, registered through compose's `extraSources` like any other source. */
export function testSource(tools: readonly Tool[], id = 'test'): ToolSource {
  return zodSource(id, tools);
}

/** A registry holding only these tools, checked by the host as compose would check them. */
export function registryOf(...tools: readonly Tool[]): Promise<ToolRegistry> {
  return ToolRegistry.load([testSource(tools)]);
}

/** The approval line the host writes for one call of `tool`, from its descriptor alone. */
export async function titleOf(tool: Tool, input: unknown): Promise<string> {
  const registry = await registryOf(tool);
  const registered = registry.get(tool.name);
  if (!registered) throw new Error(`${tool.name} did not register`);
  return registry.evaluate(registered, input).title;
}
