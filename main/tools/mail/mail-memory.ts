import type { MemoryItemInput, MemoryStore } from '../../storage/memory-store.js';
import type { MailMessage, MailSummary } from './mail-service.js';

/** How much of a body is remembered: enough to find the mail again, not the whole thread. */
export const MAIL_EXCERPT_CHARS = 2_000;

export type MailMemory = Pick<MemoryStore, 'ingest'>;

/** Where a mail lives: the account's mailbox, then its thread (the first Message-ID it refers to, or its own). */
function conversationOf(account: string, mailbox: string, thread: string | undefined): string {
  return `${account}/${mailbox}${thread ? `/${thread}` : ''}`;
}

function item(account: string, mailbox: string, summary: MailSummary, fields: { guid: string; thread: string | undefined; text: string }): MemoryItemInput {
  const at = Date.parse(summary.date);
  const name = /^(.*?)\s*<[^>]*>$/.exec(summary.from)?.[1]?.replace(/^"|"$/g, '');
  return {
    kind: 'message',
    channel: 'email',
    conversation: conversationOf(account, mailbox, fields.thread),
    conversationName: summary.subject || undefined,
    guid: fields.guid,
    sender: summary.fromAddress,
    senderName: name || undefined,
    // A From: line is the sender's claim: no mail counts as the owner's own words.
    fromOwner: false,
    isGroup: false,
    text: fields.text,
    at: Number.isFinite(at) ? at : Date.now(),
    // Subjects, names and bodies are the sender's words: untrusted, labelled with the sender.
    provenance: { kind: 'untrusted', source: 'email', detail: `from ${summary.fromAddress || 'an unknown sender'}` },
  };
}

/** A mail read in full: sender, subject and a body excerpt, under its Message-ID. */
export function rememberRead(memory: MailMemory | undefined, account: string, mailbox: string, message: MailMessage): void {
  if (!memory) return;
  const excerpt = message.text.replace(/\s+/g, ' ').trim().slice(0, MAIL_EXCERPT_CHARS);
  const thread = message.references?.split(/\s+/).find(Boolean) ?? message.messageId;
  const guid = message.messageId ?? `uid:${account}/${mailbox}/${message.uid}`;
  safely(() => memory.ingest([item(account, mailbox, message, { guid, thread, text: `${message.subject}\n${excerpt}` })]));
}

/** Mails found by a search: sender and subject (the body is remembered when the mail is read). */
export function rememberFound(memory: MailMemory | undefined, account: string, mailbox: string, found: readonly MailSummary[]): void {
  if (!memory || found.length === 0) return;
  safely(() =>
    memory.ingest(
      found.map((summary) =>
        item(account, mailbox, summary, {
          // Not the Message-ID itself: the full read of the same mail, with its body, is stored under that.
          guid: `${summary.messageId ?? `uid:${account}/${mailbox}/${summary.uid}`}#found`,
          thread: summary.messageId,
          text: summary.subject,
        }),
      ),
    ),
  );
}

/** Remembering is a side effect of reading: a full or locked database never fails the tool. */
function safely(work: () => void): void {
  try {
    work();
  } catch {
    // The mail was still read; it is simply not remembered this time.
  }
}
