import { Audit, type AuditCheck, type AuditCheckDefinition, type AuditOptions, type AuditReport, type Finding } from './checks/context.js';
import { AUDIT_CHECKS } from './checks/registry.js';
import { errorSentence, redactValues } from './checks/text.js';

/**
 * `pavise audit`: the security self-check. It runs every check of the registry (main/audit/checks/registry.ts) in
 * order; a check that fails to run reports its own failure instead of throwing, so a broken home still gets a full
 * report.
 */

export type { AuditCheck, AuditCheckDefinition, AuditOptions, AuditReport, AuditSeverity } from './checks/context.js';
export { AUDIT_CHECKS } from './checks/registry.js';
export { isPaviseArgv } from './checks/sockets.js';
export { RECENT_ROWS } from './checks/secrets.js';
export { shellQuote } from './checks/text.js';

export async function runAudit(options: AuditOptions, checks: readonly AuditCheckDefinition[] = AUDIT_CHECKS): Promise<AuditReport> {
  const audit = new Audit(options);
  const results: AuditCheck[] = [];
  try {
    for (const { id, run } of checks) {
      let findings: Finding[];
      try {
        const result = await run(audit);
        findings = Array.isArray(result) ? result : [result];
      } catch (error) {
        findings = [
          {
            severity: 'warn',
            message: `This check could not run: ${errorSentence(error)}`,
            fix: 'Run `pavise audit` again; if it keeps failing, run it with PAVISE_DEBUG=1 and report the output.',
          },
        ];
      }
      for (const finding of findings) results.push({ id, ...finding });
    }
  } finally {
    audit.close();
  }
  // Belt and braces: whatever a check echoed (an error message, a path), no known secret value leaves the audit.
  const needles = await audit.allNeedles();
  return {
    checks: results.map((check) => ({ ...check, message: redactValues(check.message, needles), fix: redactValues(check.fix, needles) })),
  };
}
