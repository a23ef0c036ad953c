import { useEffect, useState } from 'react';
import { READ_ONLY_COMMANDS } from '../../../main/common/config-schema.js';
import type { HandsView, SettingsView } from '../../../main/common/ipc.js';
import { usePavise } from '../store/store.js';
import { describedBy, Group, Row, StatusLine } from './Form.js';
import { fieldProblem, ListField } from './ListField.js';
import { useLastClick } from './use-last-click.js';
import { validateUpdate } from './validate-settings.js';

type Folder = HandsView['folders'][number];

const EMPTY: HandsView = { folders: [], httpHosts: [], mailAccounts: [], homeAssistant: { tokenStored: false }, shortcuts: [], readOnlyCommands: [] };

/** Files & Web: the folders Pavise may use (read, or read and write) and the hosts web_fetch may reach over plain http. */
export function FilesWebPane({ settings }: { readonly settings: SettingsView }) {
  const hands = settings.hands ?? EMPTY;
  const updateSettings = usePavise((state) => state.updateSettings);
  const saveHosts = async (next: string[]) => {
    const problem = fieldProblem(validateUpdate({ httpHosts: next }), 'httpHosts');
    if (problem) return problem;
    return (await updateSettings('httpHosts', { httpHosts: next })) ? undefined : usePavise.getState().forms.httpHosts?.message;
  };
  return (
    <>
      <FoldersGroup folders={hands.folders} />
      <ReadOnlyCommandsGroup enabled={hands.readOnlyCommands} />
      <Group title="Web" description="web_fetch reaches any public https address; private and local addresses are always refused.">
        <ListField
          id="http-host"
          form="httpHosts"
          label="Plain http allowed"
          help="Hosts reached over http, which anyone on the way can read and change. Leave empty unless a site has no https."
          items={hands.httpHosts}
          placeholder="intranet.example"
          itemName="host"
          save={saveHosts}
        />
      </Group>
    </>
  );
}

function FoldersGroup({ folders }: { readonly folders: readonly Folder[] }) {
  const status = usePavise((state) => state.forms.folders);
  const updateSettings = usePavise((state) => state.updateSettings);
  const [path, setPath] = useState('');
  const [access, setAccess] = useState<Folder['access']>('read');
  const [error, setError] = useState<string | undefined>();

  const save = async (next: Folder[]) => {
    const problem = fieldProblem(validateUpdate({ folders: next }), 'folders');
    setError(problem);
    if (problem) return false;
    return updateSettings('folders', { folders: next });
  };
  const add = async () => {
    const value = path.trim();
    if (!value) return;
    if (folders.some((folder) => folder.path === value)) return setError(`${value} is already granted.`);
    if (await save([...folders, { path: value, access }])) setPath('');
  };
  const shownError = error ?? (status?.state === 'error' ? status.message : undefined);

  return (
    <Group
      title="Folders"
      description="Pavise's file tools work only inside these folders, checked after following links. Nothing outside them, ever."
      footer={<StatusLine status={status?.state === 'error' ? undefined : status} />}
    >
      {folders.length === 0 ? (
        <div className="row">
          <p className="secondary empty-row">No folders yet: Pavise cannot read or write any file.</p>
        </div>
      ) : (
        folders.map((folder, index) => (
          <div className="row folder-row" key={folder.path}>
            <div className="row-main">
              <span className="row-label wide folder-path">{folder.path}</span>
              <div className="row-control">
                <select
                  className="select"
                  aria-label={`Access to ${folder.path}`}
                  value={folder.access}
                  onChange={(event) => void save(folders.map((other, at) => (at === index ? { ...other, access: event.target.value as Folder['access'] } : other)))}
                >
                  <option value="read">Read only</option>
                  <option value="read-write">Read and write</option>
                </select>
                <button type="button" className="btn" aria-label={`Remove ${folder.path}`} onClick={() => void save(folders.filter((_, at) => at !== index))}>
                  Remove
                </button>
              </div>
            </div>
          </div>
        ))
      )}
      <Row label="Add a folder" htmlFor="folder-path" help='An absolute path or one starting with "~/", e.g. ~/Documents/Pavise.' error={shownError}>
        <div className="inline-add">
          <input
            id="folder-path"
            className="input"
            placeholder="~/Documents/Pavise"
            autoComplete="off"
            spellCheck={false}
            value={path}
            aria-invalid={shownError ? true : undefined}
            aria-describedby={describedBy('folder-path', true, shownError)}
            onChange={(event) => setPath(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter') {
                event.preventDefault();
                void add();
              }
            }}
          />
          <select className="select" aria-label="Access to the new folder" value={access} onChange={(event) => setAccess(event.target.value as Folder['access'])}>
            <option value="read">Read only</option>
            <option value="read-write">Read and write</option>
          </select>
          <button type="button" className="btn" aria-label="Add folder" disabled={!path.trim() || status?.state === 'saving'} onClick={() => void add()}>
            Add
          </button>
        </div>
      </Row>
    </Group>
  );
}

/** Words for each read-only command as the owner sees it; the matching itself is on the parsed argv (read-only-commands.ts). */
const COMMAND_WORDS: Readonly<Record<(typeof READ_ONLY_COMMANDS)[number], string>> = {
  ls: 'ls — list a folder',
  cat: 'cat — show a file',
  head: 'head — show the start of a file',
  wc: 'wc — count lines and words',
  grep: 'grep — search text in files',
  find: 'find — find files by name (never with -exec or -delete)',
  git: 'git status, log and diff (never with -c, --output or an external diff)',
};

/** The read-only commands that run without asking; the owner can only turn them off (the list never grows). */
function ReadOnlyCommandsGroup({ enabled }: { readonly enabled: readonly string[] }) {
  const status = usePavise((state) => state.forms.readOnlyCommands);
  const updateSettings = usePavise((state) => state.updateSettings);
  // Two quick clicks each build on the one before, not on a saved list that has not caught up yet.
  const [shown, click] = useLastClick(enabled);
  const toggle = (name: (typeof READ_ONLY_COMMANDS)[number], on: boolean) => {
    const next = READ_ONLY_COMMANDS.filter((command) => (command === name ? on : shown.includes(command)));
    click(next, () => updateSettings('readOnlyCommands', { readOnlyCommands: next }));
  };
  return (
    <Group
      title="Commands that run without asking"
      description="Inside granted folders, in a read-only box with no network. Turn any of them off to be asked every time; every other command always asks."
      footer={<StatusLine status={status} />}
    >
      {READ_ONLY_COMMANDS.map((name) => (
        <Row key={name} label={COMMAND_WORDS[name]} htmlFor={`read-only-${name}`}>
          <input id={`read-only-${name}`} type="checkbox" className="checkbox" checked={shown.includes(name)} onChange={(event) => toggle(name, event.target.checked)} />
        </Row>
      ))}
    </Group>
  );
}

export { EMPTY as EMPTY_HANDS };
