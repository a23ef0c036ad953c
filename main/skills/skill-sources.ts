import { isAbsolute } from 'node:path';
import type { McpServerConfig } from '../common/config-schema.js';
import type { EffectTemplate, ToolCallContext, ToolDescriptor, ToolResult, ToolSource } from '../tools/source.js';
import type { InstalledSkills, LoadedSkill, SkillActivity } from './installed-skills.js';
import type { SecretFiller, Transport } from './network-broker.js';
import { SkillProcess } from './skill-process.js';
import { qualifiedToolName, skillOrigin, skillToolDescriptor } from './tool-descriptor.js';

/**
 * The installed, enabled and unchanged skills as tool sources. A code skill's tools run in its sandboxed process;
 * every skill with instructions also offers `<skill>__instructions`, which hands the model the SKILL.md text
 * labelled as third-party, so effects whose arguments come from it are never silent and their cards name the skill.
 */

export interface SkillHostDeps {
  readonly installed: InstalledSkills;
  readonly secrets: SecretFiller;
  readonly transport: Transport;
  readonly activity: SkillActivity;
  /** Folders no write grant may cover: Pavise's own home. */
  readonly protectedDirs?: readonly string[];
  /** Configured MCP servers (config.json `mcp.servers`); the SDK loads only when there is an enabled one. */
  readonly mcpServers?: Readonly<Record<string, McpServerConfig>>;
}

export interface SkillHost {
  readonly sources: readonly ToolSource[];
  readonly skills: readonly LoadedSkill[];
  /**
   * Connects the enabled MCP servers on its first call (once; later calls get the same sources), so start-up never
   * waits for them: the tool registry joins them at its first `ready()`.
   */
  readonly mcp: () => Promise<readonly ToolSource[]>;
  /** Stops every skill process. */
  close(): void;
}

export async function loadSkillHost(deps: SkillHostDeps): Promise<SkillHost> {
  const skills = await deps.installed.loadAll();
  const processes: SkillProcess[] = [];
  const sources = skills.map((skill) => {
    const process = skill.manifest.code
      ? new SkillProcess({
          skill: skill.manifest.name,
          dir: skill.dir,
          runtime: skill.manifest.code.runtime,
          args: skill.manifest.code.args,
          granted: skill.granted,
          limits: skill.manifest.code.limits,
          secrets: deps.secrets,
          transport: deps.transport,
          activity: deps.activity,
          ...(deps.protectedDirs ? { protectedDirs: deps.protectedDirs } : {}),
          verify: async () => {
            const verified = await deps.installed.verify(skill.manifest.name);
            return verified.ok ? { ok: true } : { ok: false, message: verified.message };
          },
        })
      : undefined;
    if (process) processes.push(process);
    return skillSource(skill, process, deps.activity);
  });
  let connecting: Promise<readonly McpSourceHandle[]> | undefined;
  let closed = false;
  const skillNames = new Set(skills.map((skill) => skill.manifest.name));
  return {
    sources,
    skills,
    mcp: () => {
      connecting ??= closed ? Promise.resolve([]) : connectMcpServers(deps.mcpServers ?? {}, deps.activity, skillNames, deps.protectedDirs ?? []);
      return connecting;
    },
    close: () => {
      closed = true;
      processes.forEach((process) => process.stop());
      void connecting?.then((mcp) => mcp.forEach((source) => void source.close()));
    },
  };
}

type McpSourceHandle = ToolSource & { close(): Promise<void> };

/** Connects every enabled server at once; one that fails is left out and the log says why. */
async function connectMcpServers(
  servers: Readonly<Record<string, McpServerConfig>>,
  activity: SkillActivity,
  skillNames: ReadonlySet<string>,
  protectedDirs: readonly string[],
): Promise<McpSourceHandle[]> {
  const enabled = Object.entries(servers).filter(([name, config]) => config.enabled && !skillNames.has(name));
  if (enabled.length === 0) return [];
  const { connectMcpServer } = await import('./mcp-source.js');
  const connected = await Promise.all(
    enabled.map(([name, config]) =>
      connectMcpServer(name, config, activity, protectedDirs).catch((error: unknown) => {
        activity.record({ skill: name, summary: `MCP server ${name} was not loaded: ${(error as Error).message}`, decision: 'failed' });
        return undefined;
      }),
    ),
  );
  return connected.filter((source) => source !== undefined);
}

export const INSTRUCTIONS_TOOL = 'instructions';

function skillSource(skill: LoadedSkill, process: SkillProcess | undefined, activity: SkillActivity): ToolSource {
  const name = skill.manifest.name;
  const granted = grantEffects(skill);
  const descriptors: ToolDescriptor[] = (skill.manifest.code?.tools ?? []).map((tool) => {
    const descriptor = skillToolDescriptor(name, tool);
    return granted.length > 0 ? { ...descriptor, effects: [...descriptor.effects, ...granted] } : descriptor;
  });
  const byQualified = new Map((skill.manifest.code?.tools ?? []).map((tool) => [qualifiedToolName(name, tool.name), tool.name]));
  const instructionsTool = qualifiedToolName(name, INSTRUCTIONS_TOOL);
  if (skill.manifest.instructions.length > 0 && !byQualified.has(instructionsTool)) {
    descriptors.push({
      name: instructionsTool,
      description: `Read the instructions of the third-party skill "${name}": ${skill.manifest.description}`.slice(0, 1024),
      inputSchema: { type: 'object', properties: {}, required: [] },
      effects: [],
      summary: `Read the instructions of skill ${name}`,
      output: { kind: 'untrusted', source: 'file', detail: `${skillOrigin(name)} (third-party instructions)` },
    });
  }
  return {
    id: `skill:${name}`,
    list: async () => descriptors,
    call: async (tool: string, input: unknown, context: ToolCallContext): Promise<ToolResult> => {
      if (tool === instructionsTool) return { content: skill.manifest.instructions };
      const own = byQualified.get(tool);
      if (!own || !process) return { content: `Skill ${name} has no tool ${tool}.`, isError: true };
      const result = await process.call(own, input, context.effects ?? [], context.signal);
      if (result.ok) return { content: result.content };
      // A failed call has no effect row; the log still shows that the skill tried and failed, and why.
      activity.record({ skill: name, summary: `Skill ${name} tool ${own} failed: ${result.message.slice(0, 300)}`, decision: 'failed', detail: { tool: own } });
      return { content: result.message, isError: true };
    },
  };
}

/**
 * What the host must assume of every call to a skill granted the owner's files: it may read them (a private read,
 * so the turn counts as holding the owner's data) and, with a folder granted for writing, write there. The skill
 * reads and writes inside its box, where the host cannot see which call does, so its own declared effects cannot be
 * trusted to say so; the gate judges these like any other read or write. A relative path is the skill's own folder,
 * not the owner's. Braces are written as parentheses so a path cannot read as a placeholder of the template.
 */
function grantEffects(skill: LoadedSkill): EffectTemplate[] {
  const shown = (path: string) => path.replace(/\{/g, '(').replace(/\}/g, ')');
  const owners = skill.granted.files.filter((file) => file.path === '~' || file.path.startsWith('~/') || isAbsolute(file.path));
  const written = owners.filter((file) => file.access === 'write').map((file) => shown(file.path));
  const effects: EffectTemplate[] = [];
  if (owners.length > 0) effects.push({ kind: 'read_private', what: { template: `files in ${owners.map((file) => shown(file.path)).join(', ')}` } });
  if (written.length > 0) effects.push({ kind: 'write_local', what: { template: `files in ${written.join(', ')} (skill ${skill.manifest.name} may change any of them)` } });
  return effects;
}
