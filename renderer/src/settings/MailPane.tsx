import { useState, type FormEvent } from 'react';
import type { HandsView, MailServerView, SettingsView } from '../../../main/common/ipc.js';
import { usePavise } from '../store/store.js';
import { ConnectionTest } from './ConnectionTest.js';
import { EMPTY_HANDS } from './FilesWebPane.js';
import { Group, Row, StatusLine } from './Form.js';
import { fieldProblem } from './ListField.js';
import { SecretField } from './SecretField.js';
import { validateUpdate } from './validate-settings.js';

type Account = HandsView['mailAccounts'][number];
type Tls = MailServerView['tls'];

const TLS_WORDS: Readonly<Record<Tls, string>> = { implicit: 'TLS', starttls: 'STARTTLS', none: 'No encryption (this Mac only)' };

/** The account as config.json holds it: everything but whether its password is stored. */
function saved(account: Account) {
  const { passwordStored: _stored, ...rest } = account;
  void _stored;
  return rest;
}

/** Mail: IMAP/SMTP accounts; each password is the Keychain secret mail-<id>, sent in once and never shown. */
export function MailPane({ settings }: { readonly settings: SettingsView }) {
  const accounts = (settings.hands ?? EMPTY_HANDS).mailAccounts;
  return (
    <>
      {accounts.map((account) => (
        <AccountGroup key={account.id} account={account} accounts={accounts} />
      ))}
      <AddAccount accounts={accounts} />
    </>
  );
}

function server(view: MailServerView): string {
  return `${view.host}:${view.port} · ${TLS_WORDS[view.tls]}`;
}

function AccountGroup({ account, accounts }: { readonly account: Account; readonly accounts: readonly Account[] }) {
  const updateSettings = usePavise((state) => state.updateSettings);
  const removeSecret = usePavise((state) => state.removeSecret);
  const testMail = usePavise((state) => state.testMail);
  const status = usePavise((state) => state.forms[`mail:${account.id}`]);
  const [confirm, setConfirm] = useState(false);
  const remove = async () => {
    const ok = await updateSettings(`mail:${account.id}`, { mailAccounts: accounts.filter((other) => other.id !== account.id).map(saved) });
    if (ok && account.passwordStored) await removeSecret(`mail-${account.id}`);
  };
  return (
    <Group title={account.name ? `${account.name} (${account.address})` : account.address} footer={status?.state === 'error' ? <StatusLine status={status} /> : undefined}>
      <Row label="Account" labelId={`mail-${account.id}-id`}>
        <span className="secondary">{account.id}</span>
      </Row>
      <Row label="IMAP (reading)" labelId={`mail-${account.id}-imap`}>
        <span>{server(account.imap)}</span>
      </Row>
      <Row label="SMTP (sending)" labelId={`mail-${account.id}-smtp`}>
        <span>{server(account.smtp)}</span>
      </Row>
      <Row label="Password" htmlFor={`mail-${account.id}-password`} help="Your password or an app password. Kept in your Keychain; never shown again.">
        <SecretField id={`mail-${account.id}-password`} name={`mail-${account.id}`} label={`Password for ${account.address}`} stored={account.passwordStored} />
      </Row>
      <Row label="Connection" labelId={`mail-${account.id}-test`} help="Logs in to IMAP and SMTP; nothing is sent.">
        <ConnectionTest testKey={`mail:${account.id}`} label={`Test ${account.address}`} run={() => testMail(account.id)} />
        {confirm ? (
          <>
            <button type="button" className="btn" onClick={() => setConfirm(false)}>
              Cancel
            </button>
            <button type="button" className="btn btn-danger" onClick={() => void remove()}>
              Remove account
            </button>
          </>
        ) : (
          <button type="button" className="btn" aria-label={`Remove ${account.address}`} onClick={() => setConfirm(true)}>
            Remove…
          </button>
        )}
      </Row>
    </Group>
  );
}

interface Draft {
  id: string;
  address: string;
  imapHost: string;
  imapPort: string;
  imapTls: Tls;
  smtpHost: string;
  smtpPort: string;
  smtpTls: Tls;
}

const BLANK: Draft = { id: '', address: '', imapHost: '', imapPort: '993', imapTls: 'implicit', smtpHost: '', smtpPort: '465', smtpTls: 'implicit' };

function AddAccount({ accounts }: { readonly accounts: readonly Account[] }) {
  const updateSettings = usePavise((state) => state.updateSettings);
  const setSecret = usePavise((state) => state.setSecret);
  const status = usePavise((state) => state.forms['mail:add']);
  const [draft, setDraft] = useState<Draft>(BLANK);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const field = (name: keyof Draft) => ({
    value: draft[name],
    onChange: (event: { target: { value: string } }) => setDraft({ ...draft, [name]: event.target.value }),
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const account = {
      id: draft.id.trim(),
      address: draft.address.trim(),
      imap: { host: draft.imapHost.trim(), port: Number(draft.imapPort), tls: draft.imapTls },
      smtp: { host: draft.smtpHost.trim(), port: Number(draft.smtpPort), tls: draft.smtpTls },
    };
    if (accounts.some((other) => other.id === account.id)) return setError(`There is already an account named "${account.id}"; pick another name.`);
    const next = [...accounts.map(saved), account];
    const problem = fieldProblem(validateUpdate({ mailAccounts: next }), 'mailAccounts');
    if (problem) return setError(problem);
    if (!password) return setError('Enter the password (or an app password) so Pavise can log in.');
    setError(undefined);
    if (!(await updateSettings('mail:add', { mailAccounts: next }))) return;
    if (await setSecret(`mail-${account.id}`, password)) {
      setPassword('');
      setDraft(BLANK);
    }
  };

  const shownError = error ?? (status?.state === 'error' ? status.message : undefined);
  return (
    <Group title="Add an account" description="Any IMAP/SMTP provider. For Gmail or iCloud, create an app password.">
      <form className="mail-add" onSubmit={(event) => void submit(event)} aria-label="Add a mail account">
        <Row label="Name" htmlFor="mail-id" help='A short lower-case name, e.g. "personal".'>
          <input id="mail-id" className="input" autoComplete="off" spellCheck={false} placeholder="personal" {...field('id')} />
        </Row>
        <Row label="Address" htmlFor="mail-address">
          <input id="mail-address" className="input" type="email" autoComplete="off" spellCheck={false} placeholder="you@example.com" {...field('address')} />
        </Row>
        <ServerRow kind="IMAP" id="mail-imap" host={field('imapHost')} port={field('imapPort')} tls={draft.imapTls} setTls={(tls) => setDraft({ ...draft, imapTls: tls })} />
        <ServerRow kind="SMTP" id="mail-smtp" host={field('smtpHost')} port={field('smtpPort')} tls={draft.smtpTls} setTls={(tls) => setDraft({ ...draft, smtpTls: tls })} />
        <Row label="Password" htmlFor="mail-password" help="Goes straight to your Keychain (as mail-<name>); never shown again." error={shownError}>
          <input id="mail-password" className="input secret-input" type="password" autoComplete="off" value={password} onChange={(event) => setPassword(event.target.value)} />
        </Row>
        <div className="form-actions">
          <button type="submit" className="btn btn-default" disabled={status?.state === 'saving'}>
            Add account
          </button>
        </div>
      </form>
    </Group>
  );
}

function ServerRow({
  kind,
  id,
  host,
  port,
  tls,
  setTls,
}: {
  readonly kind: 'IMAP' | 'SMTP';
  readonly id: string;
  readonly host: { value: string; onChange: (event: { target: { value: string } }) => void };
  readonly port: { value: string; onChange: (event: { target: { value: string } }) => void };
  readonly tls: Tls;
  readonly setTls: (tls: Tls) => void;
}) {
  return (
    <Row label={`${kind} server`} htmlFor={`${id}-host`}>
      <div className="inline-add">
        <input id={`${id}-host`} className="input" autoComplete="off" spellCheck={false} placeholder={kind === 'IMAP' ? 'imap.example.com' : 'smtp.example.com'} {...host} />
        <input className="input port-input" aria-label={`${kind} port`} inputMode="numeric" {...port} />
        <select className="select" aria-label={`${kind} encryption`} value={tls} onChange={(event) => setTls(event.target.value as Tls)}>
          {(Object.keys(TLS_WORDS) as Tls[]).map((value) => (
            <option key={value} value={value}>
              {TLS_WORDS[value]}
            </option>
          ))}
        </select>
      </div>
    </Row>
  );
}
