import type { ImapFlow } from 'imapflow';
import type { MailAccount } from '../../common/config-schema.js';
import type { SecretStore } from '../../secrets/secret-store.js';

/** The Keychain name of an account's password: `mail-<id>`. */
export function mailSecretName(accountId: string): string {
  return `mail-${accountId}`;
}

export class MailError extends Error {
  override readonly name = 'MailError';
}

export interface MailSummary {
  readonly uid: number;
  readonly date: string;
  readonly from: string;
  readonly fromAddress: string;
  readonly subject: string;
  readonly seen: boolean;
  readonly messageId?: string | undefined;
}

export interface MailMessage extends MailSummary {
  readonly to: string;
  readonly cc: string;
  readonly messageId: string | undefined;
  readonly references: string | undefined;
  readonly replyTo: string | undefined;
  readonly text: string;
  readonly attachments: readonly { readonly filename: string; readonly size: number; readonly contentType: string }[];
}

export interface MailSearch {
  readonly mailbox: string;
  readonly text?: string | undefined;
  readonly from?: string | undefined;
  readonly since?: string | undefined;
  readonly unseen?: boolean | undefined;
  readonly limit: number;
}

export interface OutgoingMail {
  readonly to: readonly string[];
  readonly cc?: readonly string[] | undefined;
  readonly subject: string;
  readonly text: string;
  readonly inReplyTo?: string | undefined;
  readonly references?: string | undefined;
  readonly attachments?: readonly { readonly filename: string; readonly content: Buffer }[];
}

const TIMEOUT_MS = 30_000;

/**
 * The owner's IMAP/SMTP accounts. imapflow, nodemailer and mailparser are loaded at the first mail call, never at
 * start-up; the password comes from the Keychain for each connection and goes nowhere else.
 */
export class MailService {
  constructor(
    readonly accounts: readonly MailAccount[],
    private readonly secrets: SecretStore,
  ) {}

  account(id: string | undefined): MailAccount {
    const account = id === undefined ? this.accounts[0] : this.accounts.find((candidate) => candidate.id === id);
    if (!account) {
      const known = this.accounts.map((candidate) => candidate.id).join(', ') || 'none';
      throw new MailError(id === undefined ? 'No mail account is set up; add one under mail.accounts in config.json.' : `No mail account "${id}" (accounts: ${known}).`);
    }
    return account;
  }

  async search(accountId: string | undefined, query: MailSearch): Promise<MailSummary[]> {
    return this.#withImap(accountId, async (client) => {
      const lock = await client.getMailboxLock(query.mailbox);
      try {
        const criteria: Record<string, unknown> = {};
        if (query.text) criteria.text = query.text;
        if (query.from) criteria.from = query.from;
        if (query.since) criteria.since = new Date(query.since);
        if (query.unseen) criteria.seen = false;
        if (Object.keys(criteria).length === 0) criteria.all = true;
        const uids = (await client.search(criteria, { uid: true })) || [];
        const newest = [...uids].sort((a, b) => b - a).slice(0, query.limit);
        if (newest.length === 0) return [];
        const found: MailSummary[] = [];
        for await (const message of client.fetch(newest, { uid: true, envelope: true, flags: true }, { uid: true })) {
          const sender = message.envelope?.from?.[0];
          found.push({
            uid: message.uid,
            date: message.envelope?.date ? new Date(message.envelope.date).toISOString() : '',
            from: sender ? (sender.name ? `${sender.name} <${sender.address ?? ''}>` : (sender.address ?? '')) : '',
            fromAddress: sender?.address ?? '',
            subject: message.envelope?.subject ?? '',
            seen: message.flags?.has('\\Seen') ?? false,
            messageId: message.envelope?.messageId || undefined,
          });
        }
        return found.sort((a, b) => b.uid - a.uid);
      } finally {
        lock.release();
      }
    });
  }

  async read(accountId: string | undefined, mailbox: string, uid: number): Promise<MailMessage> {
    const [{ simpleParser }, source] = await Promise.all([
      import('mailparser'),
      this.#withImap(accountId, async (client) => {
        const lock = await client.getMailboxLock(mailbox);
        try {
          const message = await client.fetchOne(String(uid), { source: true, flags: true }, { uid: true });
          if (!message || !message.source) throw new MailError(`No message ${uid} in ${mailbox}.`);
          return { source: message.source, seen: message.flags?.has('\\Seen') ?? false };
        } finally {
          lock.release();
        }
      }),
    ]);
    const parsed = await simpleParser(source.source, { skipImageLinks: true });
    const address = (value: unknown): string => {
      const list = Array.isArray(value) ? value : value ? [value] : [];
      return list.map((entry: { text?: string }) => entry.text ?? '').join(', ');
    };
    const sender = parsed.from?.value[0];
    const references = Array.isArray(parsed.references) ? parsed.references.join(' ') : parsed.references;
    return {
      uid,
      date: parsed.date?.toISOString() ?? '',
      from: parsed.from?.text ?? '',
      fromAddress: sender?.address ?? '',
      subject: parsed.subject ?? '',
      seen: source.seen,
      to: address(parsed.to),
      cc: address(parsed.cc),
      messageId: parsed.messageId,
      references,
      replyTo: parsed.replyTo?.value[0]?.address,
      text: parsed.text ?? (typeof parsed.html === 'string' ? parsed.html.replace(/<[^>]+>/g, ' ') : ''),
      attachments: parsed.attachments.map((attachment) => ({
        filename: attachment.filename ?? '(unnamed)',
        size: attachment.size,
        contentType: attachment.contentType,
      })),
    };
  }

  /** Saves a message in the account's Drafts mailbox (special use \Drafts) and returns where. */
  async saveDraft(accountId: string | undefined, mail: OutgoingMail): Promise<string> {
    const account = this.account(accountId);
    const raw = await compose(account, mail);
    return this.#withImap(account.id, async (client) => {
      const boxes = await client.list();
      const drafts = boxes.find((box) => box.specialUse === '\\Drafts')?.path ?? 'Drafts';
      await client.append(drafts, raw, ['\\Draft', '\\Seen']);
      return drafts;
    });
  }

  async move(accountId: string | undefined, mailbox: string, uid: number, destination: string): Promise<void> {
    await this.#withImap(accountId, async (client) => {
      const boxes = await client.list();
      if (!boxes.some((box) => box.path === destination)) {
        throw new MailError(`There is no mailbox "${destination}" (mailboxes: ${boxes.map((box) => box.path).join(', ')}).`);
      }
      const lock = await client.getMailboxLock(mailbox);
      try {
        const moved = await client.messageMove(String(uid), destination, { uid: true });
        if (!moved) throw new MailError(`No message ${uid} in ${mailbox}.`);
      } finally {
        lock.release();
      }
    });
  }

  async send(accountId: string | undefined, mail: OutgoingMail): Promise<{ readonly messageId: string; readonly accepted: readonly string[] }> {
    const account = this.account(accountId);
    const transport = await this.#smtp(account);
    try {
      const info = await transport.sendMail({
        from: account.name ? { name: account.name, address: account.address } : account.address,
        to: [...mail.to],
        ...(mail.cc && mail.cc.length > 0 ? { cc: [...mail.cc] } : {}),
        subject: mail.subject,
        text: mail.text,
        ...(mail.inReplyTo ? { inReplyTo: mail.inReplyTo } : {}),
        ...(mail.references ? { references: mail.references } : {}),
        ...(mail.attachments && mail.attachments.length > 0 ? { attachments: mail.attachments.map((item) => ({ filename: item.filename, content: item.content })) } : {}),
      });
      return { messageId: String(info.messageId), accepted: (info.accepted as unknown[]).map(String) };
    } catch (error) {
      // A refused login or an unreachable server says which secret or server to check, as search and check do.
      const failed = error as { code?: string };
      throw failed.code === 'EAUTH' || failed.code === 'ESOCKET' || failed.code === 'ECONNECTION' || failed.code === 'ETIMEDOUT' || failed.code === 'EDNS' ? smtpFailure(account, error) : error;
    } finally {
      transport.close();
    }
  }

  /** Logs in to IMAP and to SMTP (nothing is sent) and says, for each, what worked or what failed. */
  async check(accountId: string): Promise<{ readonly imap: string | undefined; readonly smtp: string | undefined }> {
    const account = this.account(accountId);
    const imap = await this.#withImap(account.id, async () => undefined).then(
      () => undefined,
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    let smtp: string | undefined;
    try {
      const transport = await this.#smtp(account);
      try {
        await transport.verify();
      } finally {
        transport.close();
      }
    } catch (error) {
      smtp = smtpFailure(account, error).message;
    }
    return { imap, smtp };
  }

  async #smtp(account: MailAccount) {
    const pass = await this.#password(account);
    const { createTransport } = await import('nodemailer');
    return createTransport({
      host: account.smtp.host,
      port: account.smtp.port,
      secure: account.smtp.tls === 'implicit',
      requireTLS: account.smtp.tls === 'starttls',
      ignoreTLS: account.smtp.tls === 'none',
      auth: { user: account.user ?? account.address, pass },
      connectionTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    });
  }

  async #password(account: MailAccount): Promise<string> {
    const pass = await this.secrets.get(mailSecretName(account.id));
    if (!pass) throw new MailError(`No password for the mail account "${account.id}"; store it with \`pavise secrets set ${mailSecretName(account.id)}\` (value on stdin).`);
    return pass;
  }

  async #withImap<T>(accountId: string | undefined, work: (client: ImapFlow) => Promise<T>): Promise<T> {
    const account = this.account(accountId);
    const pass = await this.#password(account);
    const { ImapFlow } = await import('imapflow');
    const client = new ImapFlow({
      host: account.imap.host,
      port: account.imap.port,
      secure: account.imap.tls === 'implicit',
      doSTARTTLS: account.imap.tls === 'starttls' ? true : account.imap.tls === 'none' ? false : undefined,
      auth: { user: account.user ?? account.address, pass },
      logger: false,
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    } as ConstructorParameters<typeof ImapFlow>[0]);
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      const detail = (error as { authenticationFailed?: boolean }).authenticationFailed
        ? `the server refused the login for ${account.user ?? account.address}; check the password in the secret ${mailSecretName(account.id)}`
        : error instanceof Error
          ? error.message
          : String(error);
      throw new MailError(`Could not connect to ${account.imap.host}: ${detail}.`);
    }
    try {
      return await work(client);
    } finally {
      await client.logout().catch(() => client.close());
    }
  }
}

/** The RFC 5322 message for a draft, built by nodemailer's composer (no hand-written headers). */
async function compose(account: MailAccount, mail: OutgoingMail): Promise<Buffer> {
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer/index.js');
  const message = new MailComposer({
    from: account.name ? { name: account.name, address: account.address } : account.address,
    to: [...mail.to],
    ...(mail.cc && mail.cc.length > 0 ? { cc: [...mail.cc] } : {}),
    subject: mail.subject,
    text: mail.text,
    ...(mail.inReplyTo ? { inReplyTo: mail.inReplyTo } : {}),
    ...(mail.references ? { references: mail.references } : {}),
  });
  return message.compile().build();
}

/** An SMTP login or connection failure in words: the login refused names the secret to set, else the server. */
function smtpFailure(account: MailAccount, error: unknown): MailError {
  if (error instanceof MailError) return error;
  const failed = error as { code?: string; message?: string };
  return new MailError(
    failed.code === 'EAUTH'
      ? `Could not log in to ${account.smtp.host}: the server refused the login for ${account.user ?? account.address}; check the password in the secret ${mailSecretName(account.id)}.`
      : `Could not connect to ${account.smtp.host}:${account.smtp.port}: ${failed.message ?? String(error)}.`,
  );
}
