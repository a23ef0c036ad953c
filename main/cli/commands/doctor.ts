import { runDoctor, type DoctorCheck, type DoctorStatus } from '../../audit/doctor.js';
import { loadConfig } from '../../config/config.js';
import { defaultPaviseHome, homePaths, paviseHome } from '../../config/paths.js';
import { KeychainSecretStore, keychainServiceFor } from '../../secrets/keychain-secret-store.js';
import { EXIT, type CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';

const MARKERS: Readonly<Record<DoctorStatus, string>> = { ok: '✓', warn: '!', fail: '✗', skip: '·' };

/** `pavise doctor [--json]`: whether Pavise works here; exits 1 when a check fails. */
export async function doctorCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs('doctor', args, { json: { type: 'boolean', default: false } }, { min: 0, max: 0, usage: '[--json]' });
  const platform = process.platform;
  const home = paviseHome(io.env, platform);
  const config = loadConfig(homePaths(home).config);
  const secrets = new KeychainSecretStore(keychainServiceFor(home, defaultPaviseHome(io.env, platform)));
  const checks = await runDoctor({ home, config, secrets, env: io.env, platform });
  io.stdout.write(values.json ? `${JSON.stringify({ checks })}\n` : formatDoctorReport(checks));
  return checks.some((check) => check.status === 'fail') ? EXIT.failure : EXIT.ok;
}

export function formatDoctorReport(checks: readonly DoctorCheck[]): string {
  const width = Math.max(0, ...checks.map((check) => check.id.length));
  const lines = checks.flatMap((check) => {
    const line = `${MARKERS[check.status]} ${check.id.padEnd(width)}  ${check.message}`;
    return check.fix && (check.status === 'fail' || check.status === 'warn') ? [line, `    fix: ${check.fix}`] : [line];
  });
  const failed = checks.filter((check) => check.status === 'fail').length;
  lines.push('', failed === 0 ? 'Pavise can work here.' : `${failed} problem${failed === 1 ? '' : 's'} keep${failed === 1 ? 's' : ''} Pavise from working; each says what to do.`);
  return `${lines.join('\n')}\n`;
}
