import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { McpServerView } from '../../../main/common/ipc.js';
import { usePavise } from '../store/store.js';
import { Group } from './Form.js';

/** The server's own tool name inside Pavise's `server__tool` name. */
function ownToolName(server: string, qualified: string): string {
  const prefix = `${server.replaceAll('-', '_')}__`;
  return qualified.startsWith(prefix) ? qualified.slice(prefix.length) : qualified;
}

/** MCP servers from config.json: state, what each may touch, its tools with the effects the gate sees, and tightening. */
export function McpServers() {
  const servers = usePavise(useShallow((state) => state.mcpServers));
  const load = usePavise((state) => state.loadMcpServers);
  const [adding, setAdding] = useState(false);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <Group
      title="MCP servers"
      description="Each runs boxed in over stdio with only the folders and programs listed. Changes apply when Pavise next starts."
      footer={
        adding ? null : (
          <button type="button" className="btn" onClick={() => setAdding(true)}>
            Add…
          </button>
        )
      }
    >
      {servers.length === 0 && !adding ? (
        <div className="row">
          <p className="secondary empty-row">No MCP servers configured.</p>
        </div>
      ) : null}
      {servers.map((server) => (
        <McpServerRow key={server.name} server={server} />
      ))}
      {adding ? <AddMcpServer onDone={() => setAdding(false)} /> : null}
    </Group>
  );
}

function McpServerRow({ server }: { readonly server: McpServerView }) {
  const setEnabled = usePavise((state) => state.setMcpServerEnabled);
  const remove = usePavise((state) => state.removeMcpServer);
  const setOverride = usePavise((state) => state.setMcpToolOverride);
  const state = !server.enabled ? 'Off' : server.running ? 'Running' : 'On — not running (it failed to start, or starts after a restart)';
  const denied = Object.entries(server.overrides).filter(([, override]) => override === 'deny');
  return (
    <div className="row skill mcp-server" data-mcp={server.name}>
      <div className="row-main">
        <span className="row-label wide">
          <strong>{server.name}</strong> <span className="skill-state">{state}</span>
        </span>
        <div className="row-control">
          <button type="button" className="btn" onClick={() => void setEnabled(server.name, !server.enabled)}>
            {server.enabled ? 'Disable' : 'Enable'}
          </button>
          <button type="button" className="btn" aria-label={`Remove ${server.name}`} onClick={() => void remove(server.name)}>
            Remove
          </button>
        </div>
      </div>
      <p className="row-help">
        <code>{[server.command, ...server.args].join(' ')}</code> · May: {server.permissions.length === 0 ? 'nothing (no files, no programs, never network)' : server.permissions.join(', ')}
      </p>
      {server.tools.length > 0 || denied.length > 0 ? (
        <ul className="mcp-tools" aria-label={`Tools of ${server.name}`}>
          {server.tools.map((tool) => {
            const own = ownToolName(server.name, tool.name);
            return (
              <li key={tool.name}>
                <code>{own}</code> <span className="secondary">{tool.effects.join(', ') || 'no effects'}</span>{' '}
                <select
                  aria-label={`Effects of ${own}`}
                  value={server.overrides[own] ?? 'default'}
                  onChange={(event) => void setOverride(server.name, own, event.target.value === 'default' ? null : (event.target.value as 'ask' | 'deny'))}
                >
                  <option value="default">As it says</option>
                  <option value="ask">Ask every time</option>
                  <option value="deny">Deny</option>
                </select>
              </li>
            );
          })}
          {denied.map(([own]) => (
            <li key={own}>
              <code>{own}</code> <span className="secondary">denied</span>{' '}
              <button type="button" className="btn" aria-label={`Allow ${own} again`} onClick={() => void setOverride(server.name, own, null)}>
                Undo
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function AddMcpServer({ onDone }: { readonly onDone: () => void }) {
  const add = usePavise((state) => state.addMcpServer);
  const [name, setName] = useState('');
  const [command, setCommand] = useState('');
  const [args, setArgs] = useState('');
  const [folders, setFolders] = useState('');
  const [access, setAccess] = useState<'read' | 'write'>('read');
  const lines = (text: string) =>
    text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0);
  const submit = async () => {
    const ok = await add({ name: name.trim(), command: command.trim(), args: lines(args), files: lines(folders).map((path) => ({ path, access })), binaries: [] });
    if (ok) onDone();
  };
  return (
    <form
      className="row mcp-add"
      aria-label="Add an MCP server"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <label>
        Name <input className="input" value={name} onChange={(event) => setName(event.target.value)} placeholder="files" />
      </label>
      <label>
        Command <input className="input" value={command} onChange={(event) => setCommand(event.target.value)} placeholder="node" />
      </label>
      <label>
        Arguments, one a line <textarea className="input" value={args} onChange={(event) => setArgs(event.target.value)} rows={2} />
      </label>
      <label>
        Folders it may use, one a line <textarea className="input" value={folders} onChange={(event) => setFolders(event.target.value)} rows={2} />
      </label>
      <label>
        Access{' '}
        <select value={access} onChange={(event) => setAccess(event.target.value as 'read' | 'write')}>
          <option value="read">Read only</option>
          <option value="write">Read and write</option>
        </select>
      </label>
      <div className="review-actions">
        <button type="button" className="btn" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="btn btn-default" disabled={!name.trim() || !command.trim()}>
          Add server
        </button>
      </div>
    </form>
  );
}
