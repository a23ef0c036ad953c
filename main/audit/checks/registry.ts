import { checkConfigNoSecrets, checkConfigValid } from './config.js';
import type { AuditCheckDefinition } from './context.js';
import { checkConfigPermissions, checkDatabasePermissions, checkHomePermissions } from './files.js';
import { checkMacosPermissions } from './macos.js';
import { checkLimits, checkOwnerIdentities, checkSkills, checkUnknownSenderPolicy } from './policy.js';
import { checkDatabaseNoSecrets, checkLogsNoSecrets, checkProviderKey, checkSecretStore } from './secrets.js';
import { checkListeningSockets } from './sockets.js';
import { checkActivityLog, checkCircuitBreaker, checkPaused } from './switches.js';

/** Every check `pavise audit` runs, in report order: the one list a new check is added to. */
export const AUDIT_CHECKS: readonly AuditCheckDefinition[] = [
  { id: 'no-listening-sockets', run: checkListeningSockets },
  { id: 'home-permissions', run: checkHomePermissions },
  { id: 'database-permissions', run: checkDatabasePermissions },
  { id: 'config-permissions', run: checkConfigPermissions },
  { id: 'config-valid', run: checkConfigValid },
  { id: 'config-no-secrets', run: checkConfigNoSecrets },
  { id: 'secret-store', run: checkSecretStore },
  { id: 'provider-key', run: checkProviderKey },
  { id: 'database-no-secrets', run: checkDatabaseNoSecrets },
  { id: 'logs-no-secrets', run: checkLogsNoSecrets },
  { id: 'activity-log', run: checkActivityLog },
  { id: 'owner-identities', run: checkOwnerIdentities },
  { id: 'unknown-sender-policy', run: checkUnknownSenderPolicy },
  { id: 'limits-sane', run: checkLimits },
  { id: 'paused', run: checkPaused },
  { id: 'circuit-breaker', run: checkCircuitBreaker },
  { id: 'skills-pinned', run: checkSkills },
  { id: 'macos-permissions', run: checkMacosPermissions },
];
