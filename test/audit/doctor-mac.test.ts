import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DOCTOR_CHECKS, MESSAGES_AUTOMATION_PROBE, runDoctor, type DoctorOptions } from '../../main/audit/doctor.js';
import { parseConfig } from '../../main/config/config.js';
import { FAKE_OSASCRIPT, SCRIPT, sampleStore } from '../calendar/native/fake-store.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';

/**
 * The doctor's Mac probes on this Linux machine: `platform: 'darwin'` with fakes where macOS is out of reach — the
 * real helper script under the fake osascript and its mocked EventKit, and a stand-in for osascript's answer to
 * Messages. What each fake cannot show (a real TCC prompt, a real login item) is listed in the report.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A process that answers like osascript did: its stdout, its stderr and exit code. */
const osascriptAnswering = (stdout: string, stderr = '', code = 0) => ({
  command: process.execPath,
  args: ['-e', `process.stdout.write(${JSON.stringify(stdout)}); process.stderr.write(${JSON.stringify(stderr)}); process.exit(${code})`],
});

async function check(id: string, extra: Partial<DoctorOptions> = {}) {
  const home = mkdtempSync(join(tmpdir(), 'pavise-doctor-mac-'));
  dirs.push(home);
  const config = parseConfig(JSON.stringify({ channels: { imessage: { enabled: true, owners: ['+15550001111'] } } }));
  const options: DoctorOptions = { home, config, secrets: new MemorySecretStore(), env: { ...process.env }, platform: 'darwin', timeoutMs: 5_000, ...extra };
  const [result] = await runDoctor(options, DOCTOR_CHECKS.filter((item) => item.id === id));
  return result;
}

function eventKit(access: { events: number; contacts: number }): Pick<DoctorOptions, 'calendarHelper' | 'env'> {
  const dir = mkdtempSync(join(tmpdir(), 'pavise-doctor-ek-'));
  dirs.push(dir);
  const state = join(dir, 'eventkit.json');
  writeFileSync(state, JSON.stringify({ ...sampleStore(), access }));
  return { calendarHelper: { command: FAKE_OSASCRIPT, args: ['-l', 'JavaScript', SCRIPT] }, env: { ...process.env, PAVISE_FAKE_EVENTKIT: state } };
}

describe('pavise doctor on a Mac (fakes for what macOS alone has)', () => {
  it('automation: probes Messages with a fixed script, and names -1743 as a refusal with the pane to open', async () => {
    expect(MESSAGES_AUTOMATION_PROBE.command).toBe('/usr/bin/osascript');
    expect(MESSAGES_AUTOMATION_PROBE.args.filter((arg) => arg !== '-e').join('\n')).toContain('if application "Messages" is running then');
    expect(await check('automation', { automationProbe: osascriptAnswering('12\n') })).toMatchObject({ status: 'ok', message: expect.stringContaining('Automation granted') });
    const refused = await check('automation', { automationProbe: osascriptAnswering('', '12:40: execution error: Not authorized to send Apple events to Messages. (-1743)\n', 1) });
    expect(refused).toMatchObject({ status: 'fail', fix: expect.stringContaining('Privacy & Security → Automation') });
    expect(await check('automation', { automationProbe: osascriptAnswering('not running\n') })).toMatchObject({ status: 'warn', fix: expect.stringContaining('Open Messages') });
    const asking = await check('automation', { automationProbe: { command: process.execPath, args: ['-e', 'setTimeout(() => undefined, 60_000)'] }, timeoutMs: 300 });
    expect(asking).toMatchObject({ status: 'warn', message: expect.stringContaining('asking whether Pavise may control Messages') });
    expect(await check('automation', { platform: 'linux' })).toMatchObject({ status: 'skip' });
  });

  it('native-helper: runs the shipped helper script\'s status, and says when Calendars access is refused or the helper does not answer', async () => {
    const granted = await check('native-helper', eventKit({ events: 3, contacts: 3 }));
    expect(granted).toMatchObject({ status: 'ok', message: 'the Calendar and Contacts helper answers (macOS 14.5.0; calendars: full, contacts: full)' });
    const denied = await check('native-helper', eventKit({ events: 2, contacts: 3 }));
    expect(denied).toMatchObject({ status: 'warn', message: expect.stringContaining('calendars: denied'), fix: expect.stringContaining('Privacy_Calendars') });
    const broken = await check('native-helper', { calendarHelper: osascriptAnswering('not json') });
    expect(broken).toMatchObject({ status: 'fail', message: expect.stringContaining('does not answer'), fix: expect.stringContaining('Reinstall Pavise') });
  });

  it('login-item: the app says whether it opens at login; the CLI, which cannot tell, says where to look', async () => {
    expect(await check('login-item', { openAtLogin: () => true })).toMatchObject({ status: 'ok' });
    expect(await check('login-item', { openAtLogin: () => false })).toMatchObject({ status: 'warn', fix: expect.stringContaining('Open at login') });
    expect(await check('login-item')).toMatchObject({ status: 'warn', message: expect.stringContaining('not visible from the CLI') });
  });
});
