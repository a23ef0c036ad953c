import { useEffect, useState, type FormEvent } from 'react';
import type { IpcRequest, SettingsView } from '../../../main/common/ipc.js';
import { PROVIDER_IDS, PROVIDER_LABELS } from '../../../main/common/providers.js';
import { usePavise } from '../store/store.js';
import { useLastClick } from './use-last-click.js';
import { describedBy, Group, Row, StatusLine } from './Form.js';
import { SecretField } from './SecretField.js';
import { validateUpdate } from './validate-settings.js';

type Provider = SettingsView['model']['provider'];

const PROVIDERS: readonly { readonly id: Provider; readonly label: string }[] = PROVIDER_IDS.map((id) => ({ id, label: PROVIDER_LABELS[id] }));

const KEY_LABELS: Readonly<Record<Provider, string>> = {
  anthropic: 'Anthropic API key',
  openai: 'OpenAI API key',
  'openai-compatible': 'API key',
};

export function GeneralPane({ settings }: { readonly settings: SettingsView }) {
  return (
    <>
      <ModelGroup settings={settings} />
      <PersonaGroup persona={settings.persona} />
      <StartupGroup openAtLogin={settings.openAtLogin} />
    </>
  );
}

function ModelGroup({ settings }: { readonly settings: SettingsView }) {
  const status = usePavise((state) => state.forms.model);
  const updateSettings = usePavise((state) => state.updateSettings);
  const [provider, setProvider] = useState<Provider>(settings.model.provider);
  const [name, setName] = useState(settings.model.name);
  const [baseURL, setBaseURL] = useState(settings.model.baseURL ?? '');
  const [errors, setErrors] = useState<Record<string, string>>({});

  useEffect(() => {
    setProvider(settings.model.provider);
    setName(settings.model.name);
    setBaseURL(settings.model.baseURL ?? '');
  }, [settings.model.provider, settings.model.name, settings.model.baseURL]);

  const dirty = provider !== settings.model.provider || name !== settings.model.name || baseURL !== (settings.model.baseURL ?? '');
  const secret = settings.secrets.find((item) => item.name === provider);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const patch: IpcRequest<'settings.update'> = {
      model: { provider, ...(name.trim() ? { name: name.trim() } : {}), ...(baseURL.trim() ? { baseURL: baseURL.trim() } : {}) },
    };
    const found = validateUpdate(patch);
    setErrors(found);
    if (Object.keys(found).length === 0) await updateSettings('model', patch);
  };

  return (
    <form onSubmit={(event) => void save(event)} noValidate>
      <Group
        title="Model"
        footer={
          <>
            <StatusLine status={status} />
            <button type="submit" className="btn btn-default" disabled={!dirty || status?.state === 'saving'}>
              Save
            </button>
          </>
        }
      >
        <Row label="Provider" htmlFor="provider">
          <select id="provider" className="select" value={provider} onChange={(event) => setProvider(event.target.value as Provider)}>
            {PROVIDERS.map((item) => (
              <option key={item.id} value={item.id}>
                {item.label}
              </option>
            ))}
          </select>
        </Row>
        <Row label="Model" htmlFor="model-name" help="The model’s exact name, as the provider spells it." error={errors['model.name']}>
          <input
            id="model-name"
            className="input"
            spellCheck={false}
            autoComplete="off"
            value={name}
            aria-invalid={errors['model.name'] ? true : undefined}
            aria-describedby={describedBy('model-name', true, errors['model.name'])}
            onChange={(event) => setName(event.target.value)}
          />
        </Row>
        <Row
          label="Base URL"
          htmlFor="base-url"
          help={provider === 'openai-compatible' ? 'Required: your server’s address, e.g. http://localhost:11434/v1 for Ollama.' : 'Optional. Leave empty to use the provider’s own address.'}
          error={errors['model.baseURL']}
        >
          <input
            id="base-url"
            className="input"
            type="url"
            spellCheck={false}
            autoComplete="off"
            placeholder={provider === 'openai-compatible' ? 'http://localhost:11434/v1' : 'Default'}
            value={baseURL}
            aria-invalid={errors['model.baseURL'] ? true : undefined}
            aria-describedby={describedBy('base-url', true, errors['model.baseURL'])}
            onChange={(event) => setBaseURL(event.target.value)}
          />
        </Row>
        <Row label="API key" htmlFor="api-key" help="Kept in your macOS Keychain. Pavise never shows it again, and the model never sees it.">
          <SecretField id="api-key" name={provider} label={KEY_LABELS[provider]} stored={secret?.stored ?? false} />
        </Row>
      </Group>
    </form>
  );
}

function PersonaGroup({ persona }: { readonly persona: string }) {
  const status = usePavise((state) => state.forms.persona);
  const savePersona = usePavise((state) => state.savePersona);
  const [text, setText] = useState(persona);
  useEffect(() => setText(persona), [persona]);
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        void savePersona(text);
      }}
    >
      <Group
        title="Persona"
        description="SOUL.md: who Pavise is and how it speaks. It cannot loosen what needs your approval."
        footer={
          <>
            <StatusLine status={status} />
            <button type="submit" className="btn btn-default" disabled={text === persona || status?.state === 'saving'}>
              Save
            </button>
          </>
        }
      >
        <div className="row row-stacked">
          <label className="sr-only" htmlFor="persona">
            SOUL.md
          </label>
          <textarea id="persona" className="textarea persona" spellCheck value={text} rows={8} onChange={(event) => setText(event.target.value)} />
        </div>
      </Group>
    </form>
  );
}

function StartupGroup({ openAtLogin }: { readonly openAtLogin: boolean }) {
  const status = usePavise((state) => state.forms.openAtLogin);
  const updateSettings = usePavise((state) => state.updateSettings);
  const [shown, click] = useLastClick(openAtLogin);
  const toggle = (on: boolean) => click(on, () => updateSettings('openAtLogin', { openAtLogin: on }));
  return (
    <Group title="Startup">
      <Row label="Open at login" htmlFor="open-at-login" help={status?.state === 'error' ? undefined : 'Starts Pavise in the menu bar when you log in.'} error={status?.state === 'error' ? status.message : undefined}>
        <input
          id="open-at-login"
          type="checkbox"
          className="checkbox"
          checked={shown}
          aria-describedby={describedBy('open-at-login', status?.state !== 'error', status?.state === 'error' ? status.message : undefined)}
          onChange={(event) => toggle(event.target.checked)}
        />
      </Row>
    </Group>
  );
}
