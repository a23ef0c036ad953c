import { runAudit, type AuditCheck, type AuditReport, type AuditSeverity } from '../../audit/audit.js';
import { paviseHome, defaultPaviseHome } from '../../config/paths.js';
import { KeychainSecretStore, keychainServiceFor } from '../../secrets/keychain-secret-store.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { EXIT, type CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';

export interface AuditCommandOptions {
  /** Tests supply their own; the default is the Keychain / Secret Service entry for the home. */
  readonly secrets?: SecretStore;
  readonly platform?: NodeJS.Platform;
}

const MARKERS: Readonly<Record<AuditSeverity, string>> = { ok: '✓', info: '·', warn: '!', critical: '✗' };

/** `pavise audit [--json] [--deep]`: the security self-check; exits 1 when any finding is critical. */
export async function auditCommand(args: string[], io: CliIO, options: AuditCommandOptions = {}): Promise<number> {
  const { values } = parseCommandArgs(
    'audit',
    args,
    { json: { type: 'boolean', default: false }, deep: { type: 'boolean', default: false } },
    { min: 0, max: 0, usage: '[--json] [--deep]' },
  );
  const platform = options.platform ?? process.platform;
  const secrets =
    options.secrets ?? new KeychainSecretStore(keychainServiceFor(paviseHome(io.env, platform), defaultPaviseHome(io.env, platform)));
  const report = await runAudit({ env: io.env, platform, deep: values.deep, secrets });
  io.stdout.write(values.json ? `${JSON.stringify({ checks: report.checks })}\n` : formatAuditReport(report));
  return report.checks.some((check) => check.severity === 'critical') ? EXIT.failure : EXIT.ok;
}

/** One line per finding, its fix indented below when there is something to do, then a summary line. */
export function formatAuditReport(report: AuditReport): string {
  const width = Math.max(0, ...report.checks.map((check) => check.id.length));
  const lines = report.checks.flatMap((check: AuditCheck) => {
    const line = `${MARKERS[check.severity]} ${check.id.padEnd(width)}  ${check.message}`;
    const needsFix = (check.severity === 'warn' || check.severity === 'critical') && check.fix.length > 0;
    return needsFix ? [line, `    fix: ${check.fix}`] : [line];
  });
  const critical = report.checks.filter((check) => check.severity === 'critical').length;
  const warnings = report.checks.filter((check) => check.severity === 'warn').length;
  lines.push('', `${critical} critical, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  return `${lines.join('\n')}\n`;
}
