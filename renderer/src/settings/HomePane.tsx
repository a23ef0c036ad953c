import { useState } from 'react';
import type { SettingsView } from '../../../main/common/ipc.js';
import { usePavise } from '../store/store.js';
import { ConnectionTest } from './ConnectionTest.js';
import { EMPTY_HANDS } from './FilesWebPane.js';
import { describedBy, Group, Row, StatusLine } from './Form.js';
import { fieldProblem, ListField } from './ListField.js';
import { SecretField } from './SecretField.js';
import { validateUpdate } from './validate-settings.js';

/** Home: Home Assistant (address here, long-lived token in the Keychain) and the Shortcuts Pavise may run. */
export function HomePane({ settings }: { readonly settings: SettingsView }) {
  const hands = settings.hands ?? EMPTY_HANDS;
  const updateSettings = usePavise((state) => state.updateSettings);
  const saveShortcuts = async (next: string[]) => {
    const problem = fieldProblem(validateUpdate({ shortcuts: next }), 'shortcuts');
    if (problem) return problem;
    return (await updateSettings('shortcuts', { shortcuts: next })) ? undefined : usePavise.getState().forms.shortcuts?.message;
  };
  return (
    <>
      <AssistantGroup assistant={hands.homeAssistant} />
      <Group title="Shortcuts" description="HomeKit scenes and other macOS Shortcuts Pavise may run, by exact name. Each run asks unless you allow it.">
        <ListField
          id="shortcut-name"
          form="shortcuts"
          label="Allowed shortcuts"
          help="Nothing else runs."
          items={hands.shortcuts}
          placeholder="Good Night"
          itemName="shortcut"
          save={saveShortcuts}
        />
      </Group>
    </>
  );
}

function AssistantGroup({ assistant }: { readonly assistant: { readonly url?: string; readonly tokenStored: boolean } }) {
  const updateSettings = usePavise((state) => state.updateSettings);
  const testHome = usePavise((state) => state.testHome);
  const status = usePavise((state) => state.forms.homeAssistant);
  const [url, setUrl] = useState(assistant.url ?? '');
  const [error, setError] = useState<string | undefined>();
  const save = async () => {
    const value = url.trim();
    const patch = { homeAssistantUrl: value === '' ? null : value };
    const problem = fieldProblem(validateUpdate(patch), 'homeAssistantUrl');
    setError(problem);
    if (!problem) await updateSettings('homeAssistant', patch);
  };
  const shownError = error ?? (status?.state === 'error' ? status.message : undefined);
  return (
    <Group title="Home Assistant" description="Lights and media can be allowed for an hour; locks, alarms, garage doors and cameras always ask.">
      <Row label="Address" htmlFor="ha-url" help="e.g. http://homeassistant.local:8123 (http only inside your home network)." error={shownError}>
        <div className="inline-add">
          <input
            id="ha-url"
            className="input"
            autoComplete="off"
            spellCheck={false}
            placeholder="http://homeassistant.local:8123"
            value={url}
            aria-invalid={shownError ? true : undefined}
            aria-describedby={describedBy('ha-url', true, shownError)}
            onChange={(event) => setUrl(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter') {
                event.preventDefault();
                void save();
              }
            }}
          />
          <button type="button" className="btn" disabled={status?.state === 'saving' || url.trim() === (assistant.url ?? '')} onClick={() => void save()}>
            Save
          </button>
        </div>
        {status?.state === 'saved' ? <StatusLine status={status} /> : null}
      </Row>
      <Row label="Access token" htmlFor="ha-token" help="A long-lived access token from your Home Assistant profile. Kept in your Keychain; never shown again.">
        <SecretField id="ha-token" name="home-assistant" label="Home Assistant token" stored={assistant.tokenStored} />
      </Row>
      <Row label="Connection" labelId="ha-test">
        <ConnectionTest testKey="home" label="Test Home Assistant" run={testHome} />
      </Row>
    </Group>
  );
}
