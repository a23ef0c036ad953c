import type { McpServerConfig } from '../../common/config-schema.js';
import type { McpServerView } from '../../common/ipc.js';
import { err } from '../../common/result.js';
import type { ConfigStore } from '../../config/config-store.js';
import type { ActivityLog } from '../../permissions/activity-log.js';
import type { ToolRegistry } from '../../tools/registry.js';
import type { Handlers } from './handler.js';

export interface McpHandlerDeps {
  readonly configStore: Pick<ConfigStore, 'read' | 'update'>;
  /** The running registry: the servers this Pavise started (config changes apply at the next start). */
  readonly tools: Pick<ToolRegistry, 'ready' | 'list'>;
  readonly activity: Pick<ActivityLog, 'append'>;
}

type McpChannels = 'mcp.list' | 'mcp.setEnabled' | 'mcp.remove' | 'mcp.add' | 'mcp.setToolOverride';

/** MCP servers in the Skills pane: config.json `mcp.servers` through the config store, and what each one offers now. */
export function mcpHandlers(deps: McpHandlerDeps): Handlers<McpChannels> {
  const list = async (): Promise<McpServerView[]> => {
    const servers = deps.configStore.read().mcp.servers;
    await deps.tools.ready();
    const running = deps.tools.list();
    return Object.entries(servers).map(([name, config]) => {
      const tools = running.filter((tool) => tool.source.id === `mcp:${name}`);
      return {
        name,
        command: config.command,
        args: config.args,
        enabled: config.enabled,
        running: tools.length > 0,
        permissions: [...config.permissions.files.map((file) => `${file.access}:${file.path}`), ...config.permissions.binaries.map((path) => `binary:${path}`)],
        tools: tools.map((tool) => ({ name: tool.name, effects: [...new Set(tool.descriptor.effects.map((effect) => effect.kind))] })),
        overrides: config.tools,
      };
    });
  };
  const change = (name: string, next: (config: McpServerConfig) => Record<string, unknown> | null, summary: string) => {
    const config = deps.configStore.read().mcp.servers[name];
    if (!config) return err('not_found', `No MCP server named "${name}" is configured.`);
    try {
      deps.configStore.update({ mcpServers: { [name]: next(config) } });
    } catch (error) {
      return err('refused', (error as Error).message);
    }
    deps.activity.append({ kind: 'system', summary, actor: 'owner:settings' });
    return undefined;
  };
  return {
    'mcp.list': () => list(),
    'mcp.setEnabled': async ({ name, enabled }) => change(name, (config) => ({ ...config, enabled }), `${enabled ? 'Enabled' : 'Disabled'} MCP server ${name}`) ?? list(),
    'mcp.remove': async ({ name }) => change(name, () => null, `Removed MCP server ${name}`) ?? list(),
    'mcp.setToolOverride': async ({ name, tool, override }) =>
      change(
        name,
        (config) => {
          const tools: Record<string, string> = { ...config.tools };
          if (override === null) delete tools[tool];
          else tools[tool] = override;
          return { ...config, tools };
        },
        `MCP server ${name}: tool ${tool} ${override === null ? 'back to its annotations' : override === 'deny' ? 'denied' : 'asks every time'}`,
      ) ?? list(),
    'mcp.add': async ({ name, command, args, files, binaries }) => {
      if (deps.configStore.read().mcp.servers[name]) return err('exists', `An MCP server named "${name}" is already configured; remove it first or pick another name.`);
      try {
        deps.configStore.update({ mcpServers: { [name]: { command, args, permissions: { files, binaries }, enabled: true } } });
      } catch (error) {
        return err('refused', (error as Error).message);
      }
      deps.activity.append({ kind: 'system', summary: `Added MCP server ${name} (${command})`, actor: 'owner:settings' });
      return list();
    },
  };
}
