import { ACTIVITY_KEY_NAME, ActivityLog } from '../../permissions/activity-log.js';
import { ActivityRows } from '../../storage/activity-rows.js';
import { Switches } from '../../storage/switches.js';
import { keyringIsEphemeral, type SecretStore } from '../../secrets/secret-store.js';
import type { Audit, Finding } from './context.js';
import { shellQuote } from './text.js';

/** The activity log's chain holds, and the pause switch and circuit breaker are reported. */

export async function checkActivityLog(audit: Audit): Promise<Finding> {
  const state = audit.database();
  if (state.kind === 'missing') return { severity: 'info', message: 'No database yet; the activity log starts on first run.', fix: '' };
  if (state.kind === 'error') {
    return { severity: 'warn', message: `The activity log could not be verified: ${state.message}`, fix: 'Follow the message, then run `pavise audit` again.' };
  }
  const { db } = state;
  const secrets = await audit.secrets();
  if (!secrets.ok) {
    return {
      severity: 'warn',
      message: `The activity log could not be verified: its key is in the secret store, which is unreachable (${secrets.error})`,
      fix: 'Make the Keychain / Secret Service reachable, then run `pavise audit` again (or `pavise activity verify`).',
    };
  }
  const rows = (db.prepare('SELECT COUNT(*) AS n FROM activity').get() as { n: number }).n;
  const hasHead = db.prepare('SELECT 1 FROM activity_head WHERE id = 1').get() !== undefined;
  const key = secrets.values.get(ACTIVITY_KEY_NAME);
  if (key === undefined) {
    if (rows === 0 && !hasHead) return { severity: 'ok', message: 'The activity log is empty (its key is created on first use).', fix: '' };
    if (keyringIsEphemeral(audit.env, audit.platform)) {
      return {
        severity: 'warn',
        message: `The activity log holds ${rows} row${rows === 1 ? '' : 's'}, but this machine has no D-Bus session: its key lived in a keyring that lasted one command, so Pavise goes on under a new key at its next start and the rows before cannot be verified.`,
        fix: 'Run Pavise where a Secret Service keeps its keyring (a desktop login, or gnome-keyring unlocked in a long-lived dbus-run-session).',
      };
    }
    return {
      severity: 'critical',
      message: `The activity log holds ${rows} row${rows === 1 ? '' : 's'} but its key (${ACTIVITY_KEY_NAME}) is ${secrets.unreadable.includes(ACTIVITY_KEY_NAME) ? 'unreadable in' : 'missing from'} the Keychain, so nobody can tell whether it was changed.`,
      fix: `Restore the Keychain entry "${ACTIVITY_KEY_NAME}" from a backup, or move ${shellQuote(audit.paths.database)} aside to start a new log.`,
    };
  }
  // The key is handed over from what was already read; the log never gets a chance to create or store one.
  const log = await ActivityLog.open(new ActivityRows(db), readOnlyKeyStore(key));
  const result = log.verify();
  if (result.ok && result.unverifiable > 0) {
    return {
      severity: 'warn',
      message: `The activity log's HMAC chain is intact from row ${result.unverifiable + 1} (${result.count - result.unverifiable} rows); rows 1–${result.unverifiable} were written under a key that was lost and cannot be verified.`,
      fix: 'Nothing to restore: the rows are kept. Keep Pavise where its keyring lasts, so the log stays verifiable from end to end.',
    };
  }
  if (result.ok) {
    return {
      severity: 'ok',
      message: result.count === 0 ? 'The activity log is empty.' : `The activity log's HMAC chain is intact (${result.count} row${result.count === 1 ? '' : 's'}).`,
      fix: '',
    };
  }
  return {
    severity: 'critical',
    message: `The activity log failed verification at row ${result.badRowId}: ${result.problem}. Something changed pavise.db outside Pavise.`,
    fix: `Keep a copy for inspection (cp ${shellQuote(audit.paths.database)} ~/pavise-evidence.db), review \`pavise activity\` around row ${result.badRowId}, and find out what wrote to the database; restore a backup or move the database aside to start a new log.`,
  };
}

function readOnlyKeyStore(key: string): SecretStore {
  return {
    get: async (name) => (name === ACTIVITY_KEY_NAME ? key : undefined),
    set: async () => {
      throw new Error('The audit never writes to the secret store.');
    },
    delete: async () => false,
    list: async () => [ACTIVITY_KEY_NAME],
  };
}

export async function checkPaused(audit: Audit): Promise<Finding> {
  const switches = switchesOf(audit);
  if (typeof switches === 'string') return { severity: 'info', message: `Pause state not read: ${switches}`, fix: '' };
  const paused = switches.get('paused');
  if (!paused.on) return { severity: 'ok', message: 'Not paused.', fix: '' };
  return {
    severity: 'info',
    message: `Pavise is paused${paused.reason ? ` (${paused.reason})` : ''}${paused.since ? ` since ${new Date(paused.since).toISOString()}` : ''}: no effects, messages or model calls.`,
    fix: '`pavise resume` when you want it back.',
  };
}

export async function checkCircuitBreaker(audit: Audit): Promise<Finding> {
  const switches = switchesOf(audit);
  if (typeof switches === 'string') return { severity: 'info', message: `Circuit breaker state not read: ${switches}`, fix: '' };
  const tripped = switches.get('outbound_tripped');
  if (!tripped.on) return { severity: 'ok', message: 'The outbound circuit breaker is closed.', fix: '' };
  const ago = tripped.since ? ` ${formatAge(audit.now - tripped.since)} ago` : '';
  return {
    severity: 'warn',
    message: `The outbound circuit breaker tripped${ago}${tripped.reason ? ` (${tripped.reason})` : ''}: outbound messages are stopped.`,
    fix: 'See what tripped it with `pavise activity --since 1d`; `pavise resume` resets the breaker.',
  };
}

function switchesOf(audit: Audit): Switches | string {
  const state = audit.database();
  if (state.kind === 'missing') return 'no database yet.';
  if (state.kind === 'error') return `the database could not be opened (see database-no-secrets).`;
  return new Switches(state.db);
}

function formatAge(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}
