import type { ToolDescriptor } from '../tools/source.js';
import type { SkillTool } from './manifest.js';

/** How a skill's tool is named to the model: `skill__tool`, so no skill can take a built-in's (or another skill's) name. */
export function qualifiedToolName(skill: string, tool: string): string {
  return `${skill.replaceAll('-', '_')}__${tool}`;
}

/** The untrusted label every skill's output carries, naming the skill as its origin. */
export function skillOrigin(skill: string): string {
  return `skill ${skill}`;
}

/**
 * A skill tool's descriptor as the host registers it: the effects and summary are the skill's templates, which the
 * host evaluates; the output label is the host's, always untrusted and naming the skill.
 */
export function skillToolDescriptor(skill: string, tool: SkillTool): ToolDescriptor {
  return {
    name: qualifiedToolName(skill, tool.name),
    description: `${tool.description} (from the third-party skill "${skill}")`,
    inputSchema: tool.inputSchema,
    effects: tool.effects,
    summary: tool.summary,
    output: { kind: 'untrusted', source: 'tool_output', detail: skillOrigin(skill) },
  };
}
