import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compose } from '../../main/compose.js';
import { sandboxSupport } from '../../main/platform/sandbox/sandbox.js';
import { effectsFromAnnotations } from '../../main/skills/mcp-source.js';
import { FAKE_ANTHROPIC_KEY } from '../helpers/cli.js';
import { ask } from '../helpers/ask.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { call, ScriptedProvider, text } from '../helpers/scripted-provider.js';

/** @modelcontextprotocol/server-filesystem from npm, limited to a temp folder, in the sandbox, through the gate. */
const boxed = sandboxSupport().ok;
const NODE_MODULES = resolve(import.meta.dirname, '../../node_modules');
const SERVER = join(NODE_MODULES, '@modelcontextprotocol/server-filesystem/dist/index.js');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

describe('MCP annotations map to effects conservatively', () => {
  it('assumes a tool without hints may change, delete and reach out; trusts only explicit read-only, closed-world hints', () => {
    expect(effectsFromAnnotations('s', { name: 't', inputSchema: {} }).map((effect) => effect.kind)).toEqual(['write_local', 'delete', 'network']);
    expect(effectsFromAnnotations('s', { name: 't', inputSchema: {}, annotations: { readOnlyHint: true, openWorldHint: false } }).map((effect) => effect.kind)).toEqual(['read_private']);
    expect(effectsFromAnnotations('s', { name: 't', inputSchema: {}, annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false } }).map((effect) => effect.kind)).toEqual(['write_local']);
    expect(effectsFromAnnotations('s', { name: 't', inputSchema: {}, annotations: { readOnlyHint: true } }).map((effect) => effect.kind)).toEqual(['read_private', 'network']);
  });
});

describe.runIf(boxed)('an MCP server from npm, end to end through the gate', () => {
  it('writes only after the owner approves, reads back labelled untrusted, and cannot reach outside its folder', async () => {
    const home = scratch('pavise-mcp-home-');
    const folder = scratch('pavise-mcp-folder-');
    const outside = scratch('pavise-mcp-outside-');
    writeFileSync(join(outside, 'secret.txt'), 'outside the grant');
    writeFileSync(
      join(home, 'config.json'),
      JSON.stringify({
        mcp: {
          servers: {
            files: {
              command: 'node',
              args: [SERVER, folder],
              permissions: { files: [{ path: NODE_MODULES, access: 'read' }, { path: folder, access: 'write' }] },
            },
          },
        },
      }),
    );
    const provider = new ScriptedProvider([
      () => ({ content: [call('c1', 'files__write_file', { path: join(folder, 'hello.txt'), content: 'hi from MCP' })] }),
      () => ({ content: [call('c2', 'files__read_text_file', { path: join(folder, 'hello.txt') })] }),
      () => ({ content: [call('c3', 'files__read_text_file', { path: join(outside, 'secret.txt') })] }),
      () => ({ content: [text('done')] }),
    ]);
    const core = await compose({ env: { PAVISE_HOME: home, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore(), provider, approvalPollMs: 20 });
    const asked: string[] = [];
    core.events.on('approval', (approval) => {
      asked.push(approval.title);
      setImmediate(() => core.gate.decide(approval.id, 'approve', 'popover'));
    });
    try {
      expect(core.tools.get('files__write_file')).toBeUndefined();
      expect(core.activity.list({ since: 0, limit: 100 }).some((row) => row.actor === 'skill:files')).toBe(false);
      await core.tools.ready();
      expect(core.tools.get('files__write_file')?.descriptor.effects.map((effect) => effect.kind)).toEqual(['write_local', 'delete']);
      const outcome = await ask(core, core.sessions.current('local', true), 'save hello and read it back');
      const results = outcome.messages.filter((message) => message.role === 'toolResult');
      expect(asked).toEqual(['write_file on MCP server files']);
      expect(readFileSync(join(folder, 'hello.txt'), 'utf8')).toBe('hi from MCP');
      expect(results[1]).toMatchObject({ isError: false, content: 'hi from MCP', provenance: { kind: 'untrusted', source: 'tool_output', detail: 'MCP server files' } });
      expect(results[2]).toMatchObject({ isError: true });
      expect(results[2]?.role === 'toolResult' && results[2].content).not.toContain('outside the grant');
      const rows = core.activity.list({ since: 0, limit: 100 });
      expect(rows.filter((row) => row.kind === 'effect').map((row) => row.tool)).toEqual(['files__write_file', 'files__read_text_file', 'files__read_text_file']);
      expect(rows.some((row) => row.actor === 'skill:files' && row.decision === 'failed')).toBe(true);
    } finally {
      core.close();
    }
    expect(existsSync(join(outside, 'secret.txt'))).toBe(true);
  });

  it('leaves out a server that cannot start, says why in the log, and the rest of Pavise works', async () => {
    const home = scratch('pavise-mcp-home-');
    writeFileSync(join(home, 'config.json'), JSON.stringify({ mcp: { servers: { broken: { command: '/nonexistent/mcp-server' } } } }));
    const core = await compose({ env: { PAVISE_HOME: home, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore(), provider: new ScriptedProvider([]) });
    try {
      await core.tools.ready();
      expect(core.tools.list().some((tool) => tool.name.startsWith('broken__'))).toBe(false);
      expect(core.tools.get('save_note')).toBeDefined();
      expect(core.activity.list({ since: 0, limit: 10 }).find((row) => row.actor === 'skill:broken')?.summary).toMatch(/MCP server broken was not loaded: .*(does not exist|not found)/);
    } finally {
      core.close();
    }
  });
});
