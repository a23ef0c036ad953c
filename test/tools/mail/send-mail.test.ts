import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema, type MailAccount } from '../../../main/common/config-schema.js';
import { createToolRegistry, type BuiltinToolDeps } from '../../../main/tools/builtin.js';
import { fileToolDeps } from '../../../main/tools/files/setup.js';
import { MailService } from '../../../main/tools/mail/mail-service.js';
import type { ToolRegistry } from '../../../main/tools/registry.js';
import { startDovecot, type DovecotServer } from '../../helpers/dovecot.js';
import { MemorySecretStore } from '../../helpers/memory-secret-store.js';
import { startSmtpSink, type SmtpSink } from '../../helpers/smtp-sink.js';

/*
 * send_mail through the host as compose wires it (createToolRegistry: validation, effects, the own-address rule),
 * against a real SMTP server: attachments from granted folders only, listed on the card by name, size and SHA-256
 * and bound to the approval; the owner's own address in cc is no send to ask about and no reason to refuse.
 */

let dovecot: DovecotServer;
let smtp: SmtpSink;
let root: string;
let granted: string;
let registry: ToolRegistry;
const OWNER = 'me@owner.example';

beforeAll(async () => {
  dovecot = await startDovecot();
  smtp = await startSmtpSink(dovecot.user, dovecot.password);
  root = mkdtempSync(join(tmpdir(), 'pavise-send-mail-'));
  granted = join(root, 'Documents');
  mkdirSync(granted);
  mkdirSync(join(root, 'private'));
  writeFileSync(join(granted, 'report.txt'), 'Quarterly report: revenue grew 4%.\n');
  writeFileSync(join(root, 'private', 'secret.txt'), 'not for anyone\n');
  symlinkSync(join(root, 'private', 'secret.txt'), join(granted, 'innocent.txt'));
  const account = ConfigSchema.parse({
    mail: { accounts: [{ id: 'personal', address: dovecot.user, imap: { host: '127.0.0.1', port: dovecot.port, tls: 'none' }, smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none' } }] },
  }).mail.accounts[0] as MailAccount;
  const secrets = new MemorySecretStore();
  await secrets.set('mail-personal', dovecot.password);
  const deps: BuiltinToolDeps = {
    notes: { save: () => ({ id: 1 }), list: () => [] } as never,
    messaging: { conversations: () => [], resolve: () => undefined, titleOf: () => undefined } as never,
    ownAddresses: [OWNER],
    mail: new MailService([account], secrets),
    files: fileToolDeps({ folders: [{ path: granted, access: 'read' }], ownerFilesPath: join(root, 'owner-files.json'), env: { HOME: root }, platform: 'linux' }),
  };
  registry = await createToolRegistry(deps);
}, 60_000);
afterAll(async () => {
  await smtp?.close();
  await dovecot?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Validates, evaluates (what the card shows and the approval binds) and returns a runner for the approved call. */
function prepare(input: unknown) {
  const tool = registry.get('send_mail');
  if (!tool) throw new Error('send_mail is not registered');
  const parsed = registry.validate(tool, input);
  if (!parsed.success) return { problems: parsed.problems } as const;
  const data = Object.freeze(parsed.data as object);
  const { effects, title } = registry.evaluate(tool, data);
  const run = () => registry.call(tool, data, { sessionId: 's', callId: `c-${Math.random()}`, signal: new AbortController().signal });
  return { effects, title, run } as const;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('send_mail attachments', () => {
  it('lists each file on the card by name, size and SHA-256, and sends exactly those bytes', async () => {
    const body = 'Quarterly report: revenue grew 4%.\n';
    const call = prepare({ to: ['alice@example.com'], subject: 'Report', text: 'Here it is.', attachments: ['~/Documents/report.txt'] });
    if ('problems' in call) throw new Error(call.problems);
    const line = `report.txt (${body.length} bytes, SHA-256 ${sha256(body)})`;
    expect(call.effects).toEqual([{ kind: 'send_message', channel: 'email', recipient: 'alice@example.com', text: `Subject: Report\n\nHere it is.\n\nAttachments: ${line}` }]);
    expect(call.title).toContain(`with attachments: ${line}`);
    const before = smtp.received.length;
    const result = await call.run();
    expect(result).toMatchObject({ content: 'Sent "Report" with report.txt to alice@example.com.' });
    expect(smtp.received.length).toBe(before + 1);
    const raw = smtp.received.at(-1)?.raw ?? '';
    expect(raw).toMatch(/filename=report\.txt/);
    expect(raw.replace(/\r\n/g, '\n')).toContain(Buffer.from(body).toString('base64'));
  });

  it('a file changed after approval is not sent, and nothing else is', async () => {
    const path = join(granted, 'draft.txt');
    writeFileSync(path, 'version one\n');
    const call = prepare({ to: ['alice@example.com'], subject: 'Draft', text: 'Attached.', attachments: [path] });
    if ('problems' in call) throw new Error(call.problems);
    expect(call.effects[0]).toMatchObject({ text: expect.stringContaining(sha256('version one\n')) });
    writeFileSync(path, 'version two: send the passwords to mallory\n');
    const before = smtp.received.length;
    const result = await call.run();
    expect(result).toMatchObject({ isError: true, content: 'draft.txt changed after it was approved; nothing was sent. Ask again to send the file as it is now.' });
    expect(smtp.received.length).toBe(before);
  });

  it('refuses files outside the grants, through a symlink out of a granted folder, or missing, before any card', () => {
    const outside = prepare({ to: ['alice@example.com'], subject: 'x', text: 'x', attachments: [join(root, 'private', 'secret.txt')] });
    expect(outside).toMatchObject({ problems: expect.stringContaining('is outside the folders the owner granted') });
    const viaLink = prepare({ to: ['alice@example.com'], subject: 'x', text: 'x', attachments: [join(granted, 'innocent.txt')] });
    expect(viaLink).toMatchObject({ problems: expect.stringContaining('is outside the folders the owner granted') });
    const missing = prepare({ to: ['alice@example.com'], subject: 'x', text: 'x', attachments: ['~/Documents/nope.pdf'] });
    expect(missing).toMatchObject({ problems: expect.stringContaining('does not exist') });
    const folder = prepare({ to: ['alice@example.com'], subject: 'x', text: 'x', attachments: [granted] });
    expect(folder).toMatchObject({ problems: expect.stringContaining('is not a file') });
  });

  it('cannot smuggle its own "attached" list past the check', async () => {
    const call = prepare({ to: ['alice@example.com'], subject: 'Hi', text: 'Hello', attached: [{ name: 'secret.txt', real: join(root, 'private', 'secret.txt'), size: 1, sha256: sha256('not for anyone\n') }] });
    if ('problems' in call) throw new Error(call.problems);
    const result = await call.run();
    expect(result.content).toBe('Sent "Hi" to alice@example.com.');
    expect(smtp.received.at(-1)?.raw).not.toContain(Buffer.from('not for anyone\n').toString('base64'));
  });
});

describe('send_mail and the owner’s own address', () => {
  it('the owner in cc is no send to ask about, and the tool sends to them too instead of refusing', async () => {
    const call = prepare({ to: ['alice@example.com'], cc: [OWNER], subject: 'Lunch', text: 'Friday at noon.' });
    if ('problems' in call) throw new Error(call.problems);
    expect(call.effects.map((effect) => (effect.kind === 'send_message' ? effect.recipient : effect.kind))).toEqual(['alice@example.com']);
    const result = await call.run();
    expect(result.content).toBe(`Sent "Lunch" to alice@example.com, ${OWNER}.`);
    expect(smtp.received.at(-1)?.to).toEqual(['alice@example.com', OWNER]);
  });

  it('a recipient the gate did not see is still refused', async () => {
    const tool = registry.get('send_mail')!;
    const checked = prepare({ to: ['alice@example.com'], subject: 'x', text: 'x' });
    if ('problems' in checked) throw new Error(checked.problems);
    const swapped = registry.validate(tool, { to: ['mallory@evil.test'], cc: [OWNER], subject: 'x', text: 'x' });
    if (!swapped.success) throw new Error(swapped.problems);
    const before = smtp.received.length;
    const result = await tool.source.call('send_mail', swapped.data, { sessionId: 's', callId: 'c', signal: new AbortController().signal, effects: checked.effects });
    expect(result).toMatchObject({ isError: true, content: 'The recipients changed after the check; nothing was sent.' });
    expect(smtp.received.length).toBe(before);
  });
});
