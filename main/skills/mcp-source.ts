import { statSync } from 'node:fs';
import type { McpServerConfig } from '../common/config-schema.js';
import { type RunningSandbox, startSandboxed } from '../platform/sandbox/sandbox.js';
import { unsupportedKeywords } from '../tools/json-schema.js';
import type { EffectTemplate, ToolDescriptor, ToolResult, ToolSource } from '../tools/source.js';
import type { SkillActivity } from './installed-skills.js';
import { binaryProblem, resolvePermissionPath, writeGrantProblem } from './permissions.js';
import { errorOutput } from './skill-process.js';

/**
 * MCP servers over stdio through `@modelcontextprotocol/sdk` (loaded on first use), each in the skills' sandbox
 * with only what its config grants, never network. The SDK's own stdio transport spawns the process itself, so a
 * transport over the sandboxed process is used instead. Tool annotations map to effects conservatively: without
 * `readOnlyHint: true` a tool may change things (write_local), `destructiveHint` adds delete, and without
 * `openWorldHint: false` it may reach out (network). Output is untrusted, labelled with the server.
 */

interface JsonRpcTransport {
  start(): Promise<void>;
  send(message: unknown): Promise<void>;
  close(): Promise<void>;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: never) => void) | undefined;
}

const MAX_LINE = 4 * 1024 * 1024;
const CALL_TIMEOUT_MS = 60_000;

/** A JSON-RPC transport (newline-delimited) over a sandboxed process's stdin and stdout. */
function sandboxTransport(box: RunningSandbox): JsonRpcTransport {
  let buffer = '';
  const transport: JsonRpcTransport = {
    start: async () => {
      box.onStdout((chunk) => {
        buffer += chunk.toString('utf8');
        if (buffer.length > MAX_LINE && !buffer.includes('\n')) {
          transport.onerror?.(new Error('the MCP server wrote a message over 4 MiB'));
          box.stop();
          return;
        }
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (!line) continue;
          try {
            transport.onmessage?.(JSON.parse(line) as never);
          } catch (error) {
            transport.onerror?.(error as Error);
          }
        }
      });
      void box.ended.then(() => transport.onclose?.());
    },
    send: async (message) => {
      if (!box.write(`${JSON.stringify(message)}\n`)) throw new Error('the MCP server has stopped');
    },
    close: async () => {
      box.stop();
    },
  };
  return transport;
}

interface McpTool {
  readonly name: string;
  readonly description?: string;
  readonly inputSchema: Record<string, unknown>;
  readonly annotations?: { readonly readOnlyHint?: boolean; readonly destructiveHint?: boolean; readonly openWorldHint?: boolean };
}

/** The effects a tool's annotations allow the host to assume, erring towards more. */
export function effectsFromAnnotations(server: string, tool: McpTool): EffectTemplate[] {
  const hints = tool.annotations ?? {};
  const what = { template: `${tool.name} on MCP server ${server}` };
  const effects: EffectTemplate[] = [];
  if (hints.readOnlyHint === true) effects.push({ kind: 'read_private', what });
  else effects.push({ kind: 'write_local', what });
  if (hints.readOnlyHint !== true && hints.destructiveHint !== false) effects.push({ kind: 'delete', target: what });
  if (hints.openWorldHint !== false) effects.push({ kind: 'network', host: { template: `MCP server ${server}` } });
  return effects;
}

/**
 * The owner's override applied on top of the annotations, only ever adding: `ask` adds every effect a tool without
 * hints gets (it may change things, delete and reach out), so a read-only tool is asked about like any other.
 */
export function tightenedEffects(server: string, tool: McpTool, override: 'ask' | undefined): EffectTemplate[] {
  const effects = effectsFromAnnotations(server, tool);
  if (override !== 'ask') return effects;
  const conservative = effectsFromAnnotations(server, { ...tool, annotations: {} });
  return [...effects, ...conservative.filter((effect) => !effects.some((known) => known.kind === effect.kind))];
}

export function mcpToolName(server: string, tool: string): string {
  return `${server.replaceAll('-', '_')}__${tool.replace(/[^a-zA-Z0-9_-]/g, '_')}`.slice(0, 64);
}

/** Why the configured program cannot be run, named as the owner wrote it (the sandbox would name only a missing parent folder). */
function commandProblem(command: string): string | undefined {
  try {
    if (!statSync(command).isFile()) return `its command ${command} is not a program file`;
  } catch {
    return `its command ${command} does not exist`;
  }
  return undefined;
}

export interface McpSource extends ToolSource {
  close(): Promise<void>;
}

/** Starts one configured server, lists its tools and returns them as a source; throws with what went wrong. */
export async function connectMcpServer(name: string, config: McpServerConfig, activity: SkillActivity, protectedDirs: readonly string[] = []): Promise<McpSource> {
  const readOnly: string[] = [];
  const readWrite: string[] = [];
  for (const file of config.permissions.files) {
    const path = resolvePermissionPath(file.path, '/', file.access);
    if (path !== undefined) (file.access === 'write' ? readWrite : readOnly).push(path);
  }
  const unwritable = writeGrantProblem(readWrite, protectedDirs);
  if (unwritable !== undefined) throw new Error(`MCP server ${name} could not start: ${unwritable}`);
  const notProgram = binaryProblem(config.permissions.binaries);
  if (notProgram !== undefined) throw new Error(`MCP server ${name} could not start: ${notProgram}`);
  const command = config.command === 'node' ? process.execPath : config.command;
  const missing = commandProblem(command);
  if (missing !== undefined) throw new Error(`MCP server ${name} could not start: ${missing}; set mcp.servers.${name}.command in config.json to the program's absolute path (or "node"), or remove the server.`);
  const started = await startSandboxed({
    argv: [command, ...config.args],
    readOnly,
    readWrite,
    executables: config.permissions.binaries,
    env: { ...config.env, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) },
    limits: { processes: config.permissions.binaries.length > 0 ? 32 : 1, cpuSeconds: 600 },
  });
  if (!started.ok) throw new Error(`MCP server ${name} could not start: ${started.message}`);
  const box = started.value;
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const client = new Client({ name: 'pavise', version: '0.1.0' });
  try {
    await client.connect(sandboxTransport(box) as never, { timeout: CALL_TIMEOUT_MS });
  } catch (error) {
    box.stop();
    const ended = await Promise.race([box.ended, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 500))]);
    const said = ended && !ended.ok && ended.stderr ? errorOutput(ended.stderr) : '';
    const stderr = said ? `: ${said}` : '';
    throw new Error(`MCP server ${name} did not complete the handshake (${(error as Error).message})${stderr}`);
  }
  // Files granted to it are read inside its box on any call the host cannot tell apart, whatever a tool's hints
  // claim: each call counts as a private read, so the gate knows the turn may now hold the owner's data.
  const withGrants = (effects: EffectTemplate[]): EffectTemplate[] =>
    config.permissions.files.length > 0 && !effects.some((effect) => effect.kind === 'read_private')
      ? [...effects, { kind: 'read_private', what: { template: `files granted to MCP server ${name}` } }]
      : effects;
  const listed = await client.listTools();
  const byName = new Map<string, string>();
  const descriptors: ToolDescriptor[] = [];
  for (const tool of listed.tools as McpTool[]) {
    const schema = { type: 'object', properties: {}, ...tool.inputSchema };
    const unsupported = unsupportedKeywords(schema);
    if (unsupported.length > 0) {
      activity.record({ skill: name, summary: `MCP server ${name}: tool ${tool.name} left out (its input schema uses ${unsupported.join(', ')})`, decision: 'skipped' });
      continue;
    }
    const override = config.tools[tool.name];
    if (override === 'deny') {
      activity.record({ skill: name, summary: `MCP server ${name}: tool ${tool.name} left out (you denied it)`, decision: 'skipped' });
      continue;
    }
    const qualified = mcpToolName(name, tool.name);
    // Two of its tools under one name (`a.b` and `a_b`, or a shared 64-character prefix): the registry keeps the
    // first descriptor, so a call must reach that tool and no other, or the gate would judge one tool's effects
    // and the server run another's.
    const taken = byName.get(qualified);
    if (taken !== undefined) {
      activity.record({ skill: name, summary: `MCP server ${name}: tool ${tool.name} left out (its name ${qualified} is already ${taken}'s)`, decision: 'skipped' });
      continue;
    }
    byName.set(qualified, tool.name);
    descriptors.push({
      name: qualified,
      description: `${tool.description ?? tool.name} (from the MCP server "${name}")`.slice(0, 1024),
      inputSchema: schema,
      effects: withGrants(tightenedEffects(name, tool, override)),
      summary: `${tool.name} on MCP server ${name}`,
      output: { kind: 'untrusted', source: 'tool_output', detail: `MCP server ${name}` },
    });
  }
  return {
    id: `mcp:${name}`,
    list: async () => descriptors,
    call: async (tool, input, context): Promise<ToolResult> => {
      const own = byName.get(tool);
      if (!own) return { content: `MCP server ${name} has no tool ${tool}.`, isError: true };
      try {
        const result = (await client.callTool({ name: own, arguments: input as Record<string, unknown> }, undefined, { signal: context.signal, timeout: CALL_TIMEOUT_MS })) as {
          content?: { type: string; text?: string }[];
          isError?: boolean;
        };
        const text = (result.content ?? []).map((part) => (part.type === 'text' ? (part.text ?? '') : `[${part.type} content]`)).join('\n');
        if (result.isError) activity.record({ skill: name, summary: `MCP server ${name} tool ${own} failed: ${text.slice(0, 300)}`, decision: 'failed' });
        return { content: text, ...(result.isError ? { isError: true } : {}) };
      } catch (error) {
        activity.record({ skill: name, summary: `MCP server ${name} tool ${own} failed: ${(error as Error).message.slice(0, 300)}`, decision: 'failed' });
        return { content: `MCP server ${name} failed: ${(error as Error).message}`, isError: true };
      }
    },
    close: async () => {
      await client.close().catch(() => undefined);
      box.stop();
    },
  };
}
