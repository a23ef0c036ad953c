import type { Config } from '../../common/config-schema.js';
import type { ConnectionTestView, HandsView } from '../../common/ipc.js';
import { err } from '../../common/result.js';
import type { ConfigStore } from '../../config/config-store.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { HOME_ASSISTANT_SECRET, HomeAssistantClient } from '../../tools/home/home-assistant.js';
import { mailSecretName, MailService } from '../../tools/mail/mail-service.js';
import type { Handlers } from './handler.js';

export interface HandsHandlerDeps {
  readonly config: Config;
  readonly configStore: Pick<ConfigStore, 'read'>;
  readonly secrets: SecretStore;
}

/** The saved config (what the panes show and test, even before a restart applies it), or the running one. */
function savedConfig(deps: HandsHandlerDeps): Config {
  try {
    return deps.configStore.read();
  } catch {
    return deps.config;
  }
}

/** Files & Web, Mail and Home as the panes show them; `stored` is the list of secret names in the Keychain. */
export function handsView(config: Config, stored: readonly string[]): HandsView {
  return {
    folders: config.files.folders.map((folder) => ({ path: folder.path, access: folder.access })),
    httpHosts: config.web.httpHosts,
    mailAccounts: config.mail.accounts.map((account) => ({
      id: account.id,
      address: account.address,
      ...(account.name ? { name: account.name } : {}),
      ...(account.user ? { user: account.user } : {}),
      imap: account.imap,
      smtp: account.smtp,
      passwordStored: stored.includes(mailSecretName(account.id)),
    })),
    homeAssistant: { ...(config.home.assistant ? { url: config.home.assistant.url } : {}), tokenStored: stored.includes(HOME_ASSISTANT_SECRET) },
    shortcuts: config.home.shortcuts,
    readOnlyCommands: config.terminal.readOnlyCommands,
  };
}

/** "Test" in the Mail and Home panes: a real login, whose failure says which part failed and what to do. */
export function handsHandlers(deps: HandsHandlerDeps): Handlers<'mail.test' | 'home.test'> {
  return {
    'mail.test': async ({ id }): Promise<ConnectionTestView | ReturnType<typeof err>> => {
      const config = savedConfig(deps);
      const account = config.mail.accounts.find((candidate) => candidate.id === id);
      if (!account) return err('not_found', `No mail account "${id}" is saved; add it first.`);
      const { imap, smtp } = await new MailService([account], deps.secrets).check(id);
      return {
        ok: imap === undefined && smtp === undefined,
        parts: [
          { name: 'IMAP', ok: imap === undefined, detail: imap ?? `Logged in to ${account.imap.host}:${account.imap.port}.` },
          { name: 'SMTP', ok: smtp === undefined, detail: smtp ?? `Logged in to ${account.smtp.host}:${account.smtp.port}.` },
        ],
      };
    },
    'home.test': async (): Promise<ConnectionTestView | ReturnType<typeof err>> => {
      const config = savedConfig(deps);
      if (!config.home.assistant) return err('not_set_up', 'No Home Assistant address is saved; enter it first.');
      const client = new HomeAssistantClient(config.home.assistant.url, deps.secrets);
      try {
        const states = await client.states(AbortSignal.timeout(20_000));
        return { ok: true, parts: [{ name: 'Home Assistant', ok: true, detail: `Connected to ${config.home.assistant.url}: ${states.length} entities.` }] };
      } catch (error) {
        return { ok: false, parts: [{ name: 'Home Assistant', ok: false, detail: error instanceof Error ? error.message : String(error) }] };
      }
    },
  };
}
