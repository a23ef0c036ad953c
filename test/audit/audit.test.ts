import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isPaviseArgv, runAudit, type AuditCheck, type AuditReport } from '../../main/audit/audit.js';
import { auditCommand } from '../../main/cli/commands/audit.js';
import { compose } from '../../main/compose.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';

const ENV_KEY = 'sk-ant-api03-' + 'x'.repeat(40);
const CONFIG_KEY = 'sk-ant-api03-' + 'y'.repeat(40);
const STORED_VALUE = 'correct-horse-battery-staple-1234';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

interface Home {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly secrets: MemorySecretStore;
  readonly database: string;
}

function emptyHome(): Home {
  const dir = mkdtempSync(join(tmpdir(), 'pavise-audit-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, env: { PAVISE_HOME: dir, ANTHROPIC_API_KEY: ENV_KEY }, secrets: new MemorySecretStore(), database: join(dir, 'pavise.db') };
}

/** A home as Pavise leaves it after first use, with three activity rows. */
async function freshHome(): Promise<Home> {
  const home = emptyHome();
  const services = await compose({ env: home.env, secrets: home.secrets });
  for (const summary of ['first', 'second', 'third']) services.activity.append({ kind: 'system', summary, actor: 'pavise' });
  services.close();
  return home;
}

function audit(home: Home, deep = false): Promise<AuditReport> {
  return runAudit({ env: home.env, platform: process.platform, deep, secrets: home.secrets });
}

function withDb(home: Home, change: (db: BetterSqlite3.Database) => void): void {
  const db = new BetterSqlite3(home.database);
  try {
    change(db);
  } finally {
    db.close();
  }
}

const critical = (report: AuditReport, id?: string): AuditCheck[] =>
  report.checks.filter((check) => check.severity === 'critical' && (id === undefined || check.id === id));
const byId = (report: AuditReport, id: string): AuditCheck[] => report.checks.filter((check) => check.id === id);

describe('runAudit', () => {
  it('finds nothing critical in a fresh home, and reports every check', async () => {
    const home = await freshHome();
    const report = await audit(home);
    expect(critical(report)).toEqual([]);
    const ids = new Set(report.checks.map((check) => check.id));
    for (const id of [
      'no-listening-sockets',
      'home-permissions',
      'database-permissions',
      'config-valid',
      'config-no-secrets',
      'database-no-secrets',
      'logs-no-secrets',
      'owner-identities',
      'unknown-sender-policy',
      'limits-sane',
      'activity-log',
      'secret-store',
      'provider-key',
      'paused',
      'circuit-breaker',
      'skills-pinned',
      'macos-permissions',
    ]) {
      expect(ids, id).toContain(id);
    }
    expect(byId(report, 'activity-log')[0]).toMatchObject({ severity: 'ok', message: expect.stringContaining('3 rows') });
    expect(byId(report, 'home-permissions')[0]?.severity).toBe('ok');
    expect(byId(report, 'database-permissions')[0]?.severity).toBe('ok');
    expect(byId(report, 'provider-key')[0]).toMatchObject({ severity: 'ok', message: expect.stringContaining('ANTHROPIC_API_KEY') });
    expect(byId(report, 'owner-identities')[0]).toMatchObject({ severity: 'info', message: expect.stringContaining('only the local CLI') });
    expect(byId(report, 'limits-sane')[0]).toMatchObject({ severity: 'ok', message: expect.stringContaining('$5') });
    for (const check of report.checks) {
      expect(check.id).toMatch(/^[a-z]+(?:-[a-z]+)*$/);
      expect(typeof check.message).toBe('string');
      expect(typeof check.fix).toBe('string');
    }
    expect(JSON.stringify(report)).not.toContain(ENV_KEY);
  });

  it('flags a database readable by others', async () => {
    const home = await freshHome();
    chmodSync(home.database, 0o644);
    const [finding, ...rest] = critical(await audit(home), 'database-permissions');
    expect(rest).toEqual([]);
    expect(finding?.message).toContain('pavise.db is 0644');
    expect(finding?.fix).toBe(`chmod 600 ${home.database}*`);
  });

  it('flags a home folder others can open', async () => {
    const home = await freshHome();
    chmodSync(home.dir, 0o755);
    const [finding] = critical(await audit(home), 'home-permissions');
    expect(finding?.message).toContain('0755');
    expect(finding?.fix).toBe(`chmod 700 ${home.dir}`);
  });

  it('reports a key in config.json by field and kind, never by value', async () => {
    const home = await freshHome();
    writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ model: { provider: 'anthropic', apiKey: CONFIG_KEY } }), { mode: 0o600 });
    const report = await audit(home);
    const [finding, ...rest] = critical(report, 'config-no-secrets');
    expect(rest).toEqual([]);
    expect(finding?.message).toContain('model.apiKey');
    expect(finding?.message).toContain('Anthropic API key');
    expect(finding?.fix).toContain('pavise secrets set anthropic');
    expect(byId(report, 'config-valid')[0]?.severity).toBe('critical');
    const json = JSON.stringify(report);
    expect(json).not.toContain(CONFIG_KEY);
    expect(json).not.toContain('y'.repeat(16));
    expect(json).not.toContain(ENV_KEY);
  });

  it('finds a key-shaped string in config.json that is not even valid JSON', async () => {
    const home = await freshHome();
    writeFileSync(join(home.dir, 'config.json'), `{\n  "model": {\n    "key": "${CONFIG_KEY}",,\n}`, { mode: 0o600 });
    const report = await audit(home);
    expect(critical(report, 'config-no-secrets')[0]?.message).toContain('line 3');
    expect(critical(report, 'config-valid')[0]?.message).toContain('not valid JSON');
    expect(JSON.stringify(report)).not.toContain(CONFIG_KEY);
  });

  it("finds a stored secret's value planted in the notes table", async () => {
    const home = await freshHome();
    await home.secrets.set('telegram', STORED_VALUE);
    let noteId = 0;
    withDb(home, (db) => {
      noteId = Number(db.prepare('INSERT INTO notes (text, created_at) VALUES (?, ?)').run(`remember the bot token ${STORED_VALUE}`, Date.now()).lastInsertRowid);
    });
    const report = await audit(home);
    const [finding, ...rest] = critical(report, 'database-no-secrets');
    expect(rest).toEqual([]);
    expect(finding?.message).toBe(`notes row ${noteId} holds the stored secret "telegram".`);
    expect(finding?.fix).toContain(`DELETE FROM notes WHERE id = ${noteId}`);
    expect(JSON.stringify(report)).not.toContain(STORED_VALUE);
  });

  it('finds key-shaped strings in the database, and --deep reaches rows past the most recent ones', async () => {
    const home = await freshHome();
    withDb(home, (db) => {
      const insert = db.prepare('INSERT INTO notes (text, created_at) VALUES (?, ?)');
      insert.run(`old note with sk-proj-${'a'.repeat(30)}`, 1);
      db.transaction(() => {
        for (let i = 0; i < 2000; i++) insert.run(`note ${i}`, 2 + i);
      })();
    });
    expect(critical(await audit(home), 'database-no-secrets')).toEqual([]);
    const [finding] = critical(await audit(home, true), 'database-no-secrets');
    expect(finding?.message).toBe('notes row 1 holds a string shaped like an OpenAI API key.');
  });

  it('names the edited row of the activity log', async () => {
    const home = await freshHome();
    withDb(home, (db) => db.prepare('UPDATE activity SET summary = ? WHERE id = 2').run('nothing happened here'));
    const [finding] = critical(await audit(home), 'activity-log');
    expect(finding?.message).toContain('row 2');
    expect(finding?.message).toContain('edited');
  });

  it('notices the last activity row was deleted', async () => {
    const home = await freshHome();
    withDb(home, (db) => db.prepare('DELETE FROM activity WHERE id = 3').run());
    const [finding] = critical(await audit(home), 'activity-log');
    expect(finding?.message).toContain('row 3');
    expect(finding?.message).toContain('deleted');
  });

  it('is critical when the activity log has rows but its key is gone', async () => {
    const home = await freshHome();
    await home.secrets.delete('activity-log-key');
    const [finding] = critical(await audit(home), 'activity-log');
    expect(finding?.message).toContain('activity-log-key');
  });

  it('reports the pause switch and a tripped circuit breaker', async () => {
    const home = await freshHome();
    const services = await compose({ env: home.env, secrets: home.secrets });
    services.switches.set('paused', true, 'paused by the owner (CLI)');
    services.switches.set('outbound_tripped', true, 'too many messages to one recipient');
    services.close();
    const report = await audit(home);
    expect(byId(report, 'paused')[0]).toMatchObject({ severity: 'info', message: expect.stringContaining('paused by the owner') });
    expect(byId(report, 'circuit-breaker')[0]).toMatchObject({ severity: 'warn', fix: expect.stringContaining('pavise resume') });
  });

  it('reports the installed skills from their pins, and warns about one that changed on disk', async () => {
    const home = await freshHome();
    expect(byId(await audit(home), 'skills-pinned')[0]).toMatchObject({ severity: 'ok', message: 'No skills installed.' });
    withDb(home, (db) => {
      const pin = db.prepare("INSERT INTO skills (name, kind, content_hash, granted_json, state, source, installed_at, updated_at) VALUES (?, 'skill', ?, '{}', ?, 'skills/x', 1, 1)");
      pin.run('weather', 'a'.repeat(64), 'enabled');
      pin.run('notes', 'b'.repeat(64), 'changed');
    });
    const [finding] = byId(await audit(home), 'skills-pinned');
    expect(finding).toMatchObject({ severity: 'warn', message: expect.stringContaining('notes'), fix: expect.stringContaining('pavise skills show notes') });
    expect(finding?.message).toContain('weather enabled');
    expect(finding?.message).not.toContain('no skills system');
  });

  it('counts a Telegram owner paired with `pavise pair telegram` (kept in the database) or given as a number in config.json', async () => {
    const home = await freshHome();
    writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ channels: { telegram: { enabled: true } } }), { mode: 0o600 });
    const [unpaired] = critical(await audit(home), 'owner-identities');
    expect(unpaired?.fix).toContain('pavise pair telegram');

    const services = await compose({ env: home.env, secrets: home.secrets });
    services.channels.addIdentity('telegram', '42', 'owner', 'pairing-code', 'Robin');
    services.close();
    expect(byId(await audit(home), 'owner-identities')).toEqual([expect.objectContaining({ severity: 'ok', message: expect.stringContaining('channels.telegram is enabled with 1 owner') })]);

    writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ channels: { telegram: { enabled: true, owners: [42, 77] } } }), { mode: 0o600 });
    expect(byId(await audit(home), 'owner-identities')).toEqual([expect.objectContaining({ severity: 'ok', message: expect.stringContaining('2 owner identities') })]);
  });

  it('checks channel owners and limits from config.json', async () => {
    const home = await freshHome();
    writeFileSync(
      join(home.dir, 'config.json'),
      JSON.stringify({ limits: { dailySpendUsd: 200 }, channels: { telegram: { enabled: true }, imessage: { owners: ['+15551234567'] } } }),
      { mode: 0o600 },
    );
    let report = await audit(home);
    expect(critical(report, 'owner-identities').map((check) => check.message)).toEqual([expect.stringContaining('channels.telegram')]);
    expect(byId(report, 'owner-identities')).toContainEqual(expect.objectContaining({ severity: 'ok', message: expect.stringContaining('channels.imessage') }));

    writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ limits: { dailySpendUsd: 200, pacing: { overallPerHour: 150 } } }));
    chmodSync(join(home.dir, 'config.json'), 0o644);
    report = await audit(home);
    const [limits] = byId(report, 'limits-sane');
    expect(limits?.severity).toBe('warn');
    expect(limits?.message).toContain('$200');
    expect(limits?.message).toContain('limits.pacing.overallPerHour = 150');
    expect(byId(report, 'config-permissions')[0]?.severity).toBe('warn');
  });

  it('fails unknown-sender-policy when the reply every stranger gets carries contact details or a secret', async () => {
    const home = await freshHome();
    const reply = (unknownSenderReply: string) =>
      writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ channels: { unknownSenderReply } }), { mode: 0o600 });

    expect(byId(await audit(home), 'unknown-sender-policy')).toEqual([expect.objectContaining({ severity: 'info', message: expect.stringContaining('Strangers get no reply') })]);

    reply('Sorry, I only talk to my owner.');
    expect(byId(await audit(home), 'unknown-sender-policy')).toEqual([expect.objectContaining({ severity: 'ok' })]);

    reply('Busy. Call me on +1 (555) 123-4567 or see https://example.com/me');
    const [exposed] = byId(await audit(home), 'unknown-sender-policy');
    expect(exposed).toMatchObject({ severity: 'warn', message: expect.stringMatching(/a link and a phone number/) });

    await home.secrets.set('anthropic', STORED_VALUE);
    reply(`The password is ${STORED_VALUE}`);
    const [leak] = critical(await audit(home), 'unknown-sender-policy');
    expect(leak?.message).toContain('the stored secret "anthropic"');
    expect(JSON.stringify(leak)).not.toContain(STORED_VALUE);
  });

  it('warns when no provider key exists and the secret store is unreachable', async () => {
    const home = await freshHome();
    const broken = new MemorySecretStore();
    broken.list = async () => {
      throw new Error('Could not list the secrets in the Secret Service: no D-Bus session.');
    };
    const report = await runAudit({ env: { PAVISE_HOME: home.dir }, platform: process.platform, deep: false, secrets: broken });
    expect(byId(report, 'secret-store')[0]).toMatchObject({ severity: 'warn', message: expect.stringContaining('no D-Bus session') });
    expect(byId(report, 'provider-key')[0]).toMatchObject({ severity: 'warn', fix: expect.stringContaining('pavise secrets set anthropic') });
    expect(byId(report, 'activity-log')[0]?.severity).toBe('warn');
  });

  it('finds secrets in log files', async () => {
    const home = await freshHome();
    mkdirSync(join(home.dir, 'logs'));
    writeFileSync(join(home.dir, 'logs', 'gateway.log'), `started\nsending with key ${ENV_KEY}\n`);
    const report = await audit(home);
    const [finding] = critical(report, 'logs-no-secrets');
    expect(finding?.message).toContain('gateway.log line 2');
    expect(finding?.message).toContain('ANTHROPIC_API_KEY');
    expect(JSON.stringify(report)).not.toContain(ENV_KEY);
  });

  it('never writes: a missing or empty home stays as it was', async () => {
    const missing = emptyHome();
    rmSync(missing.dir, { recursive: true });
    const report = await audit(missing);
    expect(critical(report)).toEqual([]);
    expect(byId(report, 'home-permissions')[0]?.severity).toBe('info');
    expect(existsSync(missing.dir)).toBe(false);

    const empty = emptyHome();
    await audit(empty);
    expect(readdirSync(empty.dir)).toEqual([]);
    expect(await empty.secrets.list()).toEqual([]);
  });

  it('never throws on a broken home', async () => {
    const home = emptyHome();
    writeFileSync(join(home.dir, 'config.json'), '{ "model": ', { mode: 0o600 });
    writeFileSync(home.database, 'this is not a database', { mode: 0o600 });
    mkdirSync(join(home.dir, 'logs'), { mode: 0o700 });
    const report = await audit(home, true);
    expect(byId(report, 'config-valid')[0]?.severity).toBe('warn');
    expect(byId(report, 'database-no-secrets')[0]).toMatchObject({ severity: 'warn', message: expect.stringContaining('not a readable Pavise database') });
    expect(byId(report, 'activity-log')[0]?.severity).toBe('warn');
  });

  it('finds a listening socket in a running Pavise process', async () => {
    const home = await freshHome();
    // Looks like the CLI to the audit (…/bin/pavise.js) and listens on loopback; exits when its stdin closes.
    mkdirSync(join(home.dir, 'fake', 'bin'), { recursive: true });
    const script = join(home.dir, 'fake', 'bin', 'pavise.js');
    writeFileSync(
      script,
      "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));" +
        " process.stdin.on('end', () => process.exit(0)); process.stdin.resume();",
    );
    writeFileSync(join(home.dir, 'fake', 'package.json'), '{"type": "commonjs"}');
    const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
    cleanups.unshift(() => child.kill('SIGKILL'));
    const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
    const port = Number(chunk.toString().trim());
    const [finding] = critical(await audit(home), 'no-listening-sockets');
    expect(finding?.message).toContain(`pid ${child.pid} listens on tcp 127.0.0.1:${port}`);
    expect(finding?.fix).toContain(`kill ${child.pid}`);
  });

  it('recognises Pavise processes by their command line', () => {
    expect(isPaviseArgv(['/usr/bin/node', '/home/me/pavise/bin/pavise.js', 'chat'])).toBe(true);
    expect(isPaviseArgv(['node', '--enable-source-maps', 'dist/cli/main.js'])).toBe(true);
    expect(isPaviseArgv(['/Applications/Pavise.app/Contents/MacOS/Pavise'])).toBe(true);
    expect(isPaviseArgv(['/opt/Pavise/pavise', '--type=renderer'])).toBe(true);
    expect(isPaviseArgv(['node', 'node_modules/.bin/vitest', 'run'])).toBe(false);
    expect(isPaviseArgv(['sh', '-c', 'node bin/pavise.js audit'])).toBe(false);
  });
});

describe('pavise audit (in process)', () => {
  function io(env: NodeJS.ProcessEnv) {
    const stdout = new PassThrough();
    let out = '';
    stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    return { io: { stdin: new PassThrough(), stdout, stderr: new PassThrough(), env }, output: () => out };
  }

  it('prints one line per check with its marker, fixes under problems, and a summary', async () => {
    const home = await freshHome();
    chmodSync(home.database, 0o644);
    const { io: cliIo, output } = io(home.env);
    const code = await auditCommand([], cliIo, { secrets: home.secrets });
    expect(code).toBe(1);
    const lines = output().trimEnd().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^✗ database-permissions +The database is open to other users/));
    expect(lines).toContainEqual(`    fix: chmod 600 ${home.database}*`);
    expect(lines).toContainEqual(expect.stringMatching(/^✓ home-permissions /));
    expect(lines).toContainEqual(expect.stringMatching(/^· unknown-sender-policy /));
    expect(lines.at(-1)).toBe('1 critical, 0 warnings');
  });

  it('--json prints exactly the checks', async () => {
    const home = await freshHome();
    const { io: cliIo, output } = io(home.env);
    expect(await auditCommand(['--json'], cliIo, { secrets: home.secrets })).toBe(0);
    const parsed = JSON.parse(output()) as { checks: AuditCheck[] };
    expect(Object.keys(parsed)).toEqual(['checks']);
    expect(parsed.checks.length).toBeGreaterThan(15);
  });

  it('rejects unknown flags and arguments as usage errors', async () => {
    const home = emptyHome();
    await expect(auditCommand(['--fast'], io(home.env).io, { secrets: home.secrets })).rejects.toThrow(/Usage: pavise audit/);
    await expect(auditCommand(['now'], io(home.env).io, { secrets: home.secrets })).rejects.toThrow(/Usage: pavise audit/);
  });
});

describe('pavise audit (built binary, real keyring)', () => {
  function home() {
    const made = tempHome();
    cleanups.push(made.cleanup);
    return made;
  }

  function parseChecks(stdout: string): AuditCheck[] {
    const parsed = JSON.parse(stdout) as { checks: AuditCheck[] };
    expect(Object.keys(parsed)).toEqual(['checks']);
    for (const check of parsed.checks) {
      expect(Object.keys(check).sort()).toEqual(['fix', 'id', 'message', 'severity']);
      expect(['ok', 'info', 'warn', 'critical']).toContain(check.severity);
    }
    return parsed.checks;
  }

  it('exits 0 on a fresh home', async () => {
    const { env } = home();
    // pause + resume create the database, the activity log's key in the keyring and two log rows.
    expect((await runCli(['pause'], { env })).code).toBe(0);
    expect((await runCli(['resume'], { env })).code).toBe(0);
    const result = await runCli(['audit', '--json', '--deep'], { env, timeoutMs: 30_000 });
    expect(result.stderr).toBe('');
    const checks = parseChecks(result.stdout);
    expect(checks.filter((check) => check.severity === 'critical')).toEqual([]);
    expect(checks.find((check) => check.id === 'activity-log')).toMatchObject({ severity: 'ok', message: expect.stringContaining('2 rows') });
    expect(checks.find((check) => check.id === 'secret-store')?.severity).toBe('ok');
    expect(checks.find((check) => check.id === 'no-listening-sockets')?.severity).toBe('ok');
    expect(result.code).toBe(0);
  });

  it('exits 1 on a broken home', async () => {
    const { env, home: dir } = home();
    expect((await runCli(['pause'], { env })).code).toBe(0);
    chmodSync(join(dir, 'pavise.db'), 0o644);
    chmodSync(dir, 0o755);
    const result = await runCli(['audit', '--json'], { env, timeoutMs: 30_000 });
    const checks = parseChecks(result.stdout);
    expect(checks.filter((check) => check.severity === 'critical').map((check) => check.id).sort()).toEqual(['database-permissions', 'home-permissions']);
    expect(result.code).toBe(1);
  });
});
