import { createHash } from 'node:crypto';
import { constants, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import type { FolderGrants } from '../files/folder-grants.js';
import type { Provenance } from '../../common/messages.js';
import type { ToolResult } from '../source.js';
import { defineTool, type Tool } from '../tool.js';
import { rememberFound, rememberRead, type MailMemory } from './mail-memory.js';
import { MailError, type MailMessage, type MailService } from './mail-service.js';

const account = z.string().min(1).max(32).optional().describe('The mail account id; default: the first account.');
const mailbox = z.string().min(1).max(200).default('INBOX').describe('The mailbox (folder), e.g. INBOX.');
const uid = z.int().min(1).describe('The message UID, from search_mail.');
const address = z.email().max(320);

const searchInput = z.object({
  account,
  mailbox,
  text: z.string().min(1).max(200).optional().describe('Words in the subject, sender or body.'),
  from: z.string().min(1).max(320).optional(),
  since: z.iso.date().optional().describe('Only mail from this day on (YYYY-MM-DD).'),
  unseen: z.boolean().optional().describe('Only unread mail.'),
  limit: z.int().min(1).max(100).default(20),
});
const readInput = z.object({ account, mailbox, uid });
const draftInput = z.object({ account, mailbox, uid, text: z.string().min(1).max(100_000).describe('The reply, as plain text.') });
const sendFields = z.object({
  account,
  to: z.array(address).min(1).max(20),
  cc: z.array(address).max(20).optional(),
  subject: z.string().max(500),
  text: z.string().min(1).max(100_000),
  attachments: z.array(z.string().min(1).max(4096)).max(10).optional().describe('Files to attach, by path, from the folders the owner granted.'),
});

/** One attachment as the owner approves it: the file after symlinks, its size and the SHA-256 of its bytes. */
export interface CheckedAttachment {
  readonly name: string;
  readonly real: string;
  readonly size: number;
  readonly sha256: string;
}

/** What one message may carry in attachments, in total. */
export const MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024;

/**
 * send_mail's input: the attachments are resolved inside the granted folders (after symlinks) and hashed while the
 * call is parsed, so the card lists each by name, size and SHA-256 and the approval binds those bytes.
 */
function sendInputOver(grants: FolderGrants | undefined) {
  return sendFields.transform((input, ctx) => {
    const paths = input.attachments ?? [];
    const checked: CheckedAttachment[] = [];
    let total = 0;
    for (const [index, path] of paths.entries()) {
      try {
        if (!grants) throw new Error('No folder is granted, so nothing can be attached; the owner can add one in Settings › Files & Web.');
        const { real } = grants.existingSync(path, 'read');
        const stats = statSync(real);
        if (!stats.isFile()) throw new Error(`${path} is not a file.`);
        total += stats.size;
        if (total > MAX_ATTACHMENT_BYTES) throw new Error(`The attachments come to more than ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB; attach fewer or smaller files.`);
        const bytes = readFileSync(real, { flag: constants.O_RDONLY | constants.O_NOFOLLOW });
        checked.push({ name: basename(real), real, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['attachments', index], message: error instanceof Error ? error.message : String(error) });
        return z.NEVER;
      }
    }
    // `attachments` becomes what the card shows (the paths are resolved away); `attached` is what execute checks.
    return {
      ...input,
      ...(checked.length > 0 ? { attachments: checked.map((item) => `${item.name} (${item.size.toLocaleString('en-US')} bytes, SHA-256 ${item.sha256})`) } : { attachments: undefined }),
      attached: checked,
    };
  });
}
const moveInput = z.object({ account, mailbox, uid, to: z.string().min(1).max(200).describe('The destination mailbox, e.g. Archive or Trash.') });

const SEND_TEXT = 'Subject: {subject}\n\n{text}[\n\nAttachments: {attachments}]';

function fromSender(address: string): Provenance {
  return { kind: 'untrusted', source: 'email', detail: `from ${address || 'an unknown sender'}` };
}

function failed(error: unknown): ToolResult {
  if (error instanceof MailError) return { content: error.message, isError: true };
  return { content: `The mail server failed: ${error instanceof Error ? error.message : String(error)}.`, isError: true };
}

export interface MailToolOptions {
  /** The host's own-address check: the gate asks about no send to these, so send_mail accepts them unasked. */
  readonly isOwnAddress?: (address: string) => boolean;
  /** The owner's folder grants: send_mail attaches files from these only. */
  readonly grants?: FolderGrants;
  /** Memory: mail read or searched is remembered there, labelled with its sender. */
  readonly memory?: MailMemory;
}

/** `search_mail`, `read_mail`, `draft_reply`, `send_mail` and `move_mail` over the owner's IMAP/SMTP accounts. */
export function createMailTools(mail: MailService, options: MailToolOptions = {}): readonly Tool[] {
  const searchMail = defineTool({
    name: 'search_mail',
    description: "Search the owner's mailbox; lists sender, subject, date and UID, newest first.",
    input: searchInput,
    effects: [{ kind: 'read_private', what: { template: 'your mail' } }],
    summary: ['Search your mail for "{text}"', 'List your mail in {mailbox}'],
    output: { kind: 'per-result' },
    execute: async (input) => {
      try {
        const found = await mail.search(input.account, { mailbox: input.mailbox, text: input.text, from: input.from, since: input.since, unseen: input.unseen, limit: input.limit });
        const where = `${input.mailbox} of ${mail.account(input.account).address}`;
        rememberFound(options.memory, mail.account(input.account).address, input.mailbox, found);
        if (found.length === 0) return { content: `No mail in ${where} matches.`, provenance: { kind: 'owner' } };
        const lines = found.map((item) => `UID ${item.uid} · ${item.date.slice(0, 16).replace('T', ' ')} · ${item.from} · ${item.subject}${item.seen ? '' : ' (unread)'}`);
        const senders = [...new Set(found.map((item) => item.fromAddress))].slice(0, 5).join(', ');
        return { content: [`${found.length} message(s) in ${where}:`, ...lines].join('\n'), provenance: { kind: 'untrusted', source: 'email', detail: `subjects and senders (${senders})` } };
      } catch (error) {
        return failed(error);
      }
    },
  });

  const readMail = defineTool({
    name: 'read_mail',
    description: 'Read one message: headers, text and the attachments by name and size.',
    input: readInput,
    effects: [{ kind: 'read_private', what: { template: 'your mail' } }],
    summary: 'Read message {uid} in {mailbox}',
    output: { kind: 'per-result' },
    execute: async (input) => {
      try {
        const message = await mail.read(input.account, input.mailbox, input.uid);
        rememberRead(options.memory, mail.account(input.account).address, input.mailbox, message);
        return { content: render(message), provenance: fromSender(message.fromAddress) };
      } catch (error) {
        return failed(error);
      }
    },
  });

  const draftReply = defineTool({
    name: 'draft_reply',
    description: 'Save a reply to a message in the Drafts mailbox, for the owner to review and send. Nothing is sent.',
    input: draftInput,
    effects: [{ kind: 'write_local', what: { template: 'Save a draft reply to message {uid} in {mailbox}: "{text}"' } }],
    summary: 'Save a draft reply to message {uid} in {mailbox}: "{text}"',
    output: { kind: 'trigger' },
    execute: async (input) => {
      try {
        const original = await mail.read(input.account, input.mailbox, input.uid);
        const to = original.replyTo ?? original.fromAddress;
        if (!to) return { content: 'The message has no sender to reply to.', isError: true };
        const subject = /^re:/i.test(original.subject) ? original.subject : `Re: ${original.subject}`;
        const references = [original.references, original.messageId].filter(Boolean).join(' ') || undefined;
        const drafts = await mail.saveDraft(input.account, { to: [to], subject, text: input.text, inReplyTo: original.messageId, references });
        // The address (the mail's Reply-To) and the subject are the sender's words, whoever asked for the draft.
        return { content: `Saved a draft reply to ${to} ("${subject}") in ${drafts}; it has not been sent.`, provenance: fromSender(original.fromAddress) };
      } catch (error) {
        return failed(error);
      }
    },
  });

  const sendMail = defineTool({
    name: 'send_mail',
    description: 'Send an email from the owner’s account. Each recipient is a send the owner may be asked about.',
    input: sendInputOver(options.grants),
    effects: [
      { kind: 'send_message', channel: { template: 'email' }, recipient: { eachOf: 'to' }, text: { template: SEND_TEXT } },
      { kind: 'send_message', channel: { template: 'email' }, recipient: { eachOf: 'cc' }, text: { template: SEND_TEXT } },
    ],
    summary: ['Email {to}[ (cc {cc})]: "{subject}" — "{text}"[ with attachments: {attachments}]'],
    output: { kind: 'trigger' },
    execute: async (input, context) => {
      try {
        // Exactly the recipients the gate saw (one send_message effect each), and the owner's own addresses (which
        // the gate drops: mail to yourself tells no one anything), are the ones the message goes to.
        const approved = new Set((context.effects ?? []).flatMap((effect) => (effect.kind === 'send_message' ? [effect.recipient] : [])));
        const everyone = [...input.to, ...(input.cc ?? [])];
        const allowed = (recipient: string) => approved.has(recipient.trim()) || (options.isOwnAddress?.(recipient) ?? false);
        if (context.effects && !everyone.every(allowed)) return { content: 'The recipients changed after the check; nothing was sent.', isError: true };
        const attachments = [];
        for (const item of input.attached) {
          // The bytes sent are the bytes hashed now: a file changed since the owner approved it is not sent.
          const granted = options.grants ? await options.grants.existing(item.real, 'read') : undefined;
          if (!granted || !options.grants) return { content: `${item.name} is no longer in a granted folder; nothing was sent.`, isError: true };
          const { handle } = await options.grants.openChecked(granted, constants.O_RDONLY, 'read');
          const content = await handle.readFile().finally(() => handle.close());
          if (createHash('sha256').update(content).digest('hex') !== item.sha256) {
            return { content: `${item.name} changed after it was approved; nothing was sent. Ask again to send the file as it is now.`, isError: true };
          }
          attachments.push({ filename: item.name, content });
        }
        const sent = await mail.send(input.account, { to: input.to, cc: input.cc, subject: input.subject, text: input.text, attachments });
        const listed = attachments.length > 0 ? ` with ${attachments.map((item) => item.filename).join(', ')}` : '';
        return `Sent "${input.subject}"${listed} to ${sent.accepted.join(', ')}.`;
      } catch (error) {
        return failed(error);
      }
    },
  });

  const moveMail = defineTool({
    name: 'move_mail',
    description: 'Move a message to another mailbox (Archive, Trash, a folder).',
    input: moveInput,
    effects: [{ kind: 'write_local', what: { template: 'Move message {uid} from {mailbox} to {to}' } }],
    summary: 'Move message {uid} from {mailbox} to {to}',
    output: { kind: 'trigger' },
    execute: async (input) => {
      try {
        await mail.move(input.account, input.mailbox, input.uid, input.to);
        return `Moved message ${input.uid} from ${input.mailbox} to ${input.to}.`;
      } catch (error) {
        return failed(error);
      }
    },
  });

  return [searchMail, readMail, draftReply, sendMail, moveMail] as readonly Tool[];
}

function render(message: MailMessage): string {
  const attachments = message.attachments.map((item) => `${item.filename} (${item.contentType}, ${item.size} bytes)`).join('; ');
  return [
    `From: ${message.from}`,
    `To: ${message.to}`,
    ...(message.cc ? [`Cc: ${message.cc}`] : []),
    `Date: ${message.date}`,
    `Subject: ${message.subject}`,
    ...(attachments ? [`Attachments: ${attachments}`] : []),
    '',
    message.text.trim(),
  ].join('\n');
}
