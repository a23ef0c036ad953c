import { CircleAlert, CircleCheck, CircleHelp, ExternalLink, X } from 'lucide-react';
import { useState } from 'react';
import type { ApprovalView } from '../../../main/common/approvals.js';
import type { SettingsView } from '../../../main/common/ipc.js';
import { revealInvisible } from '../../../main/common/visible-text.js';
import { timeLeft } from '../shared/format.js';
import { usePavise } from '../store/store.js';
import { CalendarAccessGroup } from './CalendarAccessGroup.js';
import { describedBy, Group, Row, StatusLine } from './Form.js';
import { SecretField } from './SecretField.js';
import { validateUpdate } from './validate-settings.js';

export function ChannelsPane({ settings }: { readonly settings: SettingsView }) {
  return (
    <>
      <ImessageGroup imessage={settings.channels.imessage} />
      <TelegramGroup telegram={settings.channels.telegram} />
      <PairingRequests requests={settings.channels.pendingPairings} />
      <CalendarAccessGroup />
    </>
  );
}

function OnOff({ enabled, channel }: { readonly enabled: boolean; readonly channel: string }) {
  return (
    <span className={enabled ? 'state-text on' : 'state-text'}>
      {enabled ? 'On' : 'Off'}
      <span className="secondary"> — {enabled ? 'set in config.json' : `turn on with channels.${channel}.enabled in config.json`}</span>
    </span>
  );
}

function ImessageGroup({ imessage }: { readonly imessage: SettingsView['channels']['imessage'] }) {
  const openPane = usePavise((state) => state.openPane);
  const paneStatus = usePavise((state) => state.forms['pane:full-disk-access']);
  const access = imessage.fullDiskAccess;
  const AccessIcon = access === 'granted' ? CircleCheck : access === 'denied' ? CircleAlert : CircleHelp;
  return (
    <Group title="iMessage">
      <Row label="Status" labelId="imessage-status">
        <OnOff enabled={imessage.enabled} channel="imessage" />
      </Row>
      <Row
        label="Full Disk Access"
        labelId="fda-label"
        help="Pavise reads your Messages history (chat.db), which macOS protects. Allow it in Privacy & Security › Full Disk Access."
        error={paneStatus?.state === 'error' ? paneStatus.message : undefined}
      >
        <span className={`access access-${access}`}>
          <AccessIcon size={16} strokeWidth={1.75} aria-hidden />
          {access === 'granted' ? 'Allowed' : access === 'denied' ? 'Not allowed' : 'Not checked yet'}
        </span>
        <button type="button" className="btn" onClick={() => void openPane('full-disk-access')}>
          Open Privacy Settings
          <ExternalLink size={12} strokeWidth={2} aria-hidden />
        </button>
      </Row>
      <OwnerHandles owners={imessage.owners} />
    </Group>
  );
}

function OwnerHandles({ owners }: { readonly owners: readonly string[] }) {
  const status = usePavise((state) => state.forms.owners);
  const updateSettings = usePavise((state) => state.updateSettings);
  const [handle, setHandle] = useState('');
  const [error, setError] = useState<string | undefined>();

  const save = async (next: string[]) => {
    const problems = validateUpdate({ imessageOwners: next });
    setError(problems.imessageOwners);
    if (problems.imessageOwners) return false;
    return updateSettings('owners', { imessageOwners: next });
  };
  const add = async () => {
    const value = handle.trim();
    if (!value) return;
    if (owners.includes(value)) {
      setError(`${value} is already on the list.`);
      return;
    }
    if (await save([...owners, value])) setHandle('');
  };
  const shownError = error ?? (status?.state === 'error' ? status.message : undefined);

  return (
    <Row label="Your handles" htmlFor="owner-handle" help="Messages from these phone numbers and Apple ID emails are you. Everyone else is treated as data, never as instructions." error={shownError}>
      <div className="handles">
        {owners.length > 0 ? (
          <ul className="chips" aria-label="Your iMessage handles">
            {owners.map((owner) => (
              <li key={owner} className="chip">
                {owner}
                <button type="button" className="chip-remove" aria-label={`Remove ${owner}`} onClick={() => void save(owners.filter((item) => item !== owner))}>
                  <X size={12} strokeWidth={2} aria-hidden />
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <span className="secondary">None yet</span>
        )}
        <div className="inline-add">
          <input
            id="owner-handle"
            className="input"
            placeholder="+1 555 000 1111 or you@icloud.com"
            autoComplete="off"
            spellCheck={false}
            value={handle}
            aria-invalid={shownError ? true : undefined}
            aria-describedby={describedBy('owner-handle', true, shownError)}
            onChange={(event) => setHandle(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter') {
                event.preventDefault();
                void add();
              }
            }}
          />
          <button type="button" className="btn" disabled={!handle.trim() || status?.state === 'saving'} onClick={() => void add()}>
            Add
          </button>
        </div>
      </div>
    </Row>
  );
}

function TelegramGroup({ telegram }: { readonly telegram: SettingsView['channels']['telegram'] }) {
  const pairing = usePavise((state) => state.pairing);
  const status = usePavise((state) => state.forms.pairing);
  const createPairing = usePavise((state) => state.createPairing);
  const left = pairing ? timeLeft(pairing.expiresAt) : undefined;
  return (
    <Group title="Telegram">
      <Row label="Status" labelId="telegram-status">
        <OnOff enabled={telegram.enabled} channel="telegram" />
      </Row>
      <Row label="Bot token" htmlFor="telegram-token" help="From @BotFather. Kept in your macOS Keychain; never shown again.">
        <SecretField id="telegram-token" name="telegram-bot-token" label="Telegram bot token" stored={telegram.tokenStored} />
      </Row>
      <Row
        label="Your account"
        labelId="telegram-account"
        help={pairing && left ? undefined : 'Pairing tells Pavise which Telegram account is you. The code works once, for 10 minutes.'}
        error={status?.state === 'error' ? status.message : undefined}
      >
        <span className="secondary">{telegram.owners.length > 0 ? telegram.owners.join(', ') : 'Not paired'}</span>
        <button type="button" className="btn" disabled={status?.state === 'saving'} onClick={() => void createPairing()}>
          {telegram.owners.length > 0 ? 'Pair another account' : 'Pair my Telegram account'}
        </button>
      </Row>
      {pairing && left ? (
        <div className="pairing-code" role="status">
          <p>Send this code to your bot from your own Telegram account:</p>
          <output className="code" aria-label="One-time pairing code">
            {pairing.code}
          </output>
          <p className="secondary">Works once, for the next {left}.</p>
        </div>
      ) : null}
    </Group>
  );
}

function PairingRequests({ requests }: { readonly requests: readonly ApprovalView[] }) {
  return (
    <Group title="Pairing requests" description="People who wrote to Pavise and are not your contacts. Approved, they get answers — but no tools and none of your data.">
      {requests.length === 0 ? (
        <div className="row">
          <p className="secondary empty-row">No one is waiting.</p>
        </div>
      ) : (
        requests.map((request) => <PairingRequest key={request.id} request={request} />)
      )}
    </Group>
  );
}

function PairingRequest({ request }: { readonly request: ApprovalView }) {
  const status = usePavise((state) => state.forms[`pairing:${request.id}`]);
  const decidePairing = usePavise((state) => state.decidePairing);
  const busy = status?.state === 'saving';
  return (
    <div className="row pairing-request" data-approval-id={request.id}>
      <div className="row-main">
        <span className="row-label wide">{revealInvisible(request.title)}</span>
        <div className="row-control">
          <button type="button" className="btn" disabled={busy} onClick={() => void decidePairing(request.id, 'deny')}>
            Deny
          </button>
          <button type="button" className="btn btn-default" disabled={busy} onClick={() => void decidePairing(request.id, 'approve')}>
            Approve
          </button>
        </div>
      </div>
      <p className="row-help">{revealInvisible(request.reason)}</p>
      {status?.state === 'error' ? <StatusLine status={status} /> : null}
    </div>
  );
}
