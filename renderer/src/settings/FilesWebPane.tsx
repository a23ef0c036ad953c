import { useState } from 'react';
import type { HandsView, SettingsView } from '../../../main/common/ipc.js';
import { usePavise } from '../store/store.js';
import { describedBy, Group, Row, StatusLine } from './Form.js';
import { fieldProblem, ListField } from './ListField.js';
import { validateUpdate } from './validate-settings.js';

type Folder = HandsView['folders'][number];

const EMPTY: HandsView = { folders: [], httpHosts: [], mailAccounts: [], homeAssistant: { tokenStored: false }, shortcuts: [] };

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

export { EMPTY as EMPTY_HANDS };
