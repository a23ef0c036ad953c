import { PacingConfigSchema } from '../../common/config-schema.js';
import type { Audit, AuditSeverity, Finding } from './context.js';
import { secretsIn } from './secrets.js';
import { objectField } from './text.js';

/** Who may command Pavise, what a stranger gets, and the limits that keep it from running away. */

const SPEND_WARN_USD = 50;

export async function checkOwnerIdentities(audit: Audit): Promise<Finding[]> {
  const raw = await audit.rawConfig();
  if (raw.exists && raw.json === undefined) {
    return [{ severity: 'info', message: 'config.json could not be parsed (see config-valid), so its chat channels were not checked.', fix: '' }];
  }
  const channels = objectField(raw.json, 'channels');
  const paired = pairedOwners(audit);
  const findings: Finding[] = [];
  let enabled = 0;
  for (const [name, channel] of Object.entries(channels ?? {})) {
    if (channel === null || typeof channel !== 'object' || Array.isArray(channel)) continue;
    const fields = channel as Record<string, unknown>;
    if (fields.enabled === false) continue;
    enabled++;
    // Telegram ids may be numbers in config.json; `pavise pair telegram` adds owners to the database, not the file.
    const configured = Array.isArray(fields.owners)
      ? fields.owners.filter((owner) => (typeof owner === 'string' && owner.trim().length > 0) || (typeof owner === 'number' && owner > 0)).map(String)
      : [];
    const owners = new Set([...configured, ...(paired.get(name) ?? [])]);
    findings.push(
      owners.size === 0
        ? {
            severity: 'critical',
            message: `channels.${name} is enabled but names no owner: Pavise cannot tell you from anyone else who writes to it.`,
            fix:
              name === 'telegram'
                ? 'Pair your own account: run `pavise pair telegram` and send the code to your bot while `pavise gateway` runs (or add your numeric user id to channels.telegram.owners in config.json), or set channels.telegram.enabled to false.'
                : `Add your own handle to channels.${name}.owners in config.json, or set channels.${name}.enabled to false.`,
          }
        : { severity: 'ok', message: `channels.${name} is enabled with ${owners.size} owner identit${owners.size === 1 ? 'y' : 'ies'}.`, fix: '' },
    );
  }
  if (enabled === 0) return [{ severity: 'info', message: 'No chat channels enabled; only the local CLI can command Pavise.', fix: '' }];
  return findings;
}

/** Owners added by pairing (kept in the database's identities), per channel; none when the database cannot be read. */
function pairedOwners(audit: Audit): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  const state = audit.database();
  if (state.kind !== 'open') return owners;
  try {
    const rows = state.db.prepare("SELECT channel, identity FROM identities WHERE role = 'owner'").all() as { channel: string; identity: string }[];
    for (const row of rows) owners.set(row.channel, [...(owners.get(row.channel) ?? []), row.identity]);
  } catch {
    // An older or damaged database: only config.json's owners count, as before.
  }
  return owners;
}

const POLICY =
  'Only the owner commands Pavise. Anyone else who writes is treated as data: unknown senders get no tools and no private memory, only a pairing request you decide locally.';
const LINK = /\b(?:https?:\/\/|www\.)\S+/i;
const EMAIL = /[^\s@]+@[^\s@]+\.[^\s@]+/;
const PHONE = /\+?\d[\d\s().-]{6,}\d/;

/**
 * channels.unknownSenderReply goes, unasked, to anyone who writes (invariant 4: private data never goes silently to
 * anyone but the owner). A secret in it is critical; a link, email address or phone number is a warning, because a
 * stranger (or a spammer probing numbers) gets it without the owner seeing the exchange.
 */
export async function checkUnknownSenderPolicy(audit: Audit): Promise<Finding> {
  const { config } = audit.config();
  if (!config) return { severity: 'info', message: `${POLICY} The reply to strangers was not checked: config.json is invalid (see config-valid).`, fix: '' };
  const reply = config.channels.unknownSenderReply;
  if (reply === undefined) return { severity: 'info', message: `${POLICY} Strangers get no reply.`, fix: '' };
  const secrets = secretsIn(reply, await audit.knownSecrets());
  if (secrets.length > 0) {
    return {
      severity: 'critical',
      message: `channels.unknownSenderReply, which anyone who writes receives, contains ${secrets.join(' and ')}.`,
      fix: 'Remove it from channels.unknownSenderReply in config.json now and replace that secret (rotate the key): strangers may already have it.',
    };
  }
  const exposed = [LINK.test(reply) && 'a link', EMAIL.test(reply) && 'an email address', PHONE.test(reply) && 'a phone number'].filter(
    (what): what is string => typeof what === 'string',
  );
  if (exposed.length > 0) {
    return {
      severity: 'warn',
      message: `channels.unknownSenderReply, which anyone who writes receives, contains ${exposed.join(' and ')}.`,
      fix: 'Keep channels.unknownSenderReply to one fixed line without contact details or links, or remove it so strangers get no reply.',
    };
  }
  return { severity: 'ok', message: `${POLICY} Strangers get one fixed line with no contact details or links.`, fix: '' };
}

export async function checkLimits(audit: Audit): Promise<Finding> {
  const { config } = audit.config();
  if (!config) return { severity: 'info', message: 'Limits not checked: config.json is invalid (see config-valid).', fix: '' };
  const { limits } = config;
  const problems: Finding[] = [];
  if (limits.dailySpendUsd > SPEND_WARN_USD) {
    problems.push({
      severity: 'warn',
      message: `The daily spend cap is $${limits.dailySpendUsd} (above $${SPEND_WARN_USD}).`,
      fix: 'Lower limits.dailySpendUsd in config.json (the default is 5) unless you mean to allow that much a day.',
    });
  } else if (limits.dailySpendUsd === 0) {
    problems.push({
      severity: 'info',
      message: 'The daily spend cap is $0: every paid model call is refused.',
      fix: 'Raise limits.dailySpendUsd in config.json if Pavise should answer with a paid model.',
    });
  }
  const atCeiling = (Object.keys(PacingConfigSchema.shape) as (keyof typeof PacingConfigSchema.shape)[]).filter(
    (field) => limits.pacing[field] >= (PacingConfigSchema.shape[field].unwrap().maxValue ?? Number.POSITIVE_INFINITY),
  );
  if (atCeiling.length > 0) {
    problems.push({
      severity: 'warn',
      message: `Message pacing is at its hard ceiling: ${atCeiling.map((field) => `limits.pacing.${field} = ${limits.pacing[field]}`).join(', ')}.`,
      fix: 'Lower it in config.json (defaults: 5 per minute and 30 per hour per recipient, 100 per hour overall); messaging services block accounts that send in bursts.',
    });
  }
  const figures =
    `daily spend cap $${limits.dailySpendUsd}; at most ${limits.maxStepsPerTurn} steps and ${limits.maxTokensPerTurn.toLocaleString('en-US')} tokens per turn; ` +
    `messages paced at ${limits.pacing.perRecipientPerMinute}/min and ${limits.pacing.perRecipientPerHour}/h per recipient, ${limits.pacing.overallPerHour}/h overall`;
  if (problems.length === 0) return { severity: 'ok', message: `Limits: ${figures}.`, fix: '' };
  const order: readonly AuditSeverity[] = ['ok', 'info', 'warn', 'critical'];
  const worst = problems.reduce((a, b) => (order.indexOf(b.severity) > order.indexOf(a.severity) ? b : a));
  return {
    severity: worst.severity,
    message: `${problems.map((problem) => problem.message).join(' ')} (Limits: ${figures}.)`,
    fix: problems.map((problem) => problem.fix).join(' '),
  };
}

/** The installed skills and MCP servers as their pins record them; one whose files changed after review is off. */
export async function checkSkills(audit: Audit): Promise<Finding> {
  const state = audit.database();
  if (state.kind === 'missing') return { severity: 'info', message: 'No database yet, so no skills are installed.', fix: '' };
  if (state.kind === 'error') return { severity: 'warn', message: `The installed skills could not be read: ${state.message}`, fix: 'Follow the message, then run `pavise audit` again.' };
  const rows = state.db.prepare('SELECT name, kind, state FROM skills ORDER BY name').all() as { name: string; kind: 'skill' | 'mcp'; state: 'enabled' | 'disabled' | 'changed' }[];
  if (rows.length === 0) return { severity: 'ok', message: 'No skills installed.', fix: '' };
  const listed = rows.map((row) => `${row.name}${row.kind === 'mcp' ? ' (MCP server)' : ''} ${row.state}`).join(', ');
  const changed = rows.filter((row) => row.state === 'changed');
  if (changed.length > 0) {
    return {
      severity: 'warn',
      message: `Changed on disk after review, so off until reviewed again: ${changed.map((row) => row.name).join(', ')} (installed: ${listed}).`,
      fix: `Read the review with \`pavise skills show ${changed[0]?.name ?? 'NAME'}\`, then re-pin it with \`pavise skills enable NAME --grant NEW_HASH\`, or remove it.`,
    };
  }
  return { severity: 'ok', message: `${rows.length} installed, each pinned to the SHA-256 of its reviewed content and re-hashed at every load: ${listed}.`, fix: '' };
}
