import { spawn, type ChildProcess } from 'node:child_process';
import { ImapFlow } from 'imapflow';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A real Dovecot IMAP server on 127.0.0.1, in a temporary directory, with one user and plain-text login (loopback only). */
export interface DovecotServer {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly dir: string;
  log(): string;
  stop(): Promise<void>;
}

export const DOVECOT_BINARY = '/usr/sbin/dovecot';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startDovecot(user = 'owner@example.com', password = 'imap-test-password-not-secret'): Promise<DovecotServer> {
  const dir = mkdtempSync(join(tmpdir(), 'pavise-dovecot-'));
  for (const sub of ['run', 'state', 'mail', 'home']) mkdirSync(join(dir, sub), { recursive: true });
  const port = await freePort();
  const me = userInfo();
  const root = me.uid === 0;
  // As root, Dovecot's own processes (user dovecot) read the password file and mail is kept as nobody: the
  // throwaway directory is opened up for them (it holds only test data).
  const mailUid = root ? 65534 : me.uid;
  const mailGid = root ? 65534 : me.gid;
  if (root) for (const sub of ['', 'mail', 'home']) chmodSync(join(dir, sub), 0o777);
  writeFileSync(join(dir, 'users'), `${user}:{PLAIN}${password}::::::\n`);
  writeFileSync(
    join(dir, 'dovecot.conf'),
    [
      `base_dir = ${dir}/run`,
      `state_dir = ${dir}/state`,
      `log_path = ${dir}/dovecot.log`,
      'protocols = imap',
      'listen = 127.0.0.1',
      'ssl = no',
      'disable_plaintext_auth = no',
      'auth_mechanisms = plain login',
      `mail_location = maildir:${dir}/mail/%u`,
      // As root Dovecot drops privileges to its own users; otherwise everything runs as the test's user.
      ...(root ? [] : [`default_internal_user = ${me.username}`, `default_internal_group = ${me.username}`, `default_login_user = ${me.username}`]),
      `passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u ${dir}/users\n}`,
      `userdb {\n  driver = static\n  args = uid=${mailUid} gid=${mailGid} home=${dir}/home/%u\n}`,
      `service imap-login {\n  chroot =\n  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}`,
      'service anvil {\n  chroot =\n}',
      'service stats {\n  unix_listener stats-writer {\n    mode = 0666\n  }\n}',
      'namespace inbox {\n  inbox = yes\n  separator = /\n' +
        '  mailbox Drafts {\n    special_use = \\Drafts\n    auto = subscribe\n  }\n' +
        '  mailbox Sent {\n    special_use = \\Sent\n    auto = subscribe\n  }\n' +
        '  mailbox Trash {\n    special_use = \\Trash\n    auto = subscribe\n  }\n' +
        '  mailbox Archive {\n    special_use = \\Archive\n    auto = subscribe\n  }\n}',
      '',
    ].join('\n'),
  );
  if (root) chmodSync(join(dir, 'users'), 0o644);
  const child: ChildProcess = spawn(DOVECOT_BINARY, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const log = () => {
    try {
      return `${output}\n${readFileSync(join(dir, 'dovecot.log'), 'utf8')}`;
    } catch {
      return output;
    }
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dovecot exited (${child.exitCode}): ${log()}`);
    const ready = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`dovecot did not listen on ${port} in time: ${log()}`);
    }
    await sleep(50);
  }
  return {
    port,
    user,
    password,
    dir,
    log,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(3_000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The subjects in one mailbox, read over IMAP (none when the mailbox does not exist). */
export async function mailboxSubjects(server: DovecotServer, mailbox: string): Promise<string[]> {
  const client = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, doSTARTTLS: false, auth: { user: server.user, pass: server.password }, logger: false } as never);
  await client.connect();
  try {
    const lock = await client.getMailboxLock(mailbox);
    try {
      const found: string[] = [];
      for await (const message of client.fetch('1:*', { envelope: true })) found.push(message.envelope?.subject ?? '');
      return found;
    } finally {
      lock.release();
    }
  } catch {
    return [];
  } finally {
    await client.logout();
  }
}
