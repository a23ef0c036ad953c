import { ConfigError } from '../../config/config.js';
import { findKeyShapedFields, keyShapeOf } from '../../config/key-shapes.js';
import type { Audit, Finding } from './context.js';
import { linesWithKeyShapes, lineOf } from './secrets.js';
import { redactKeyShapes, shellQuote, withArticle } from './text.js';

/** config.json is valid and holds no secret (secrets live only in the Keychain, invariant 2). */

export async function checkConfigValid(audit: Audit): Promise<Finding> {
  const raw = await audit.rawConfig();
  if (!raw.exists) return { severity: 'ok', message: 'No config.json; the defaults are in use.', fix: '' };
  const { config, error } = audit.config();
  if (config) {
    return { severity: 'ok', message: `config.json is valid (provider ${config.model.provider}, model ${config.model.name || '(none)'}).`, fix: '' };
  }
  if (!(error instanceof ConfigError)) throw error;
  const holdsSecret = raw.json !== undefined ? findKeyShapedFields(raw.json).length > 0 : raw.text !== undefined && linesWithKeyShapes(raw.text).length > 0;
  const message = redactKeyShapes(error.message, await audit.knownSecrets());
  return holdsSecret
    ? {
        severity: 'critical',
        message,
        fix: 'Remove the secret from config.json, then store it with `pavise secrets set NAME` (the value is read from stdin). Pavise will not start until config.json is valid.',
      }
    : { severity: 'warn', message, fix: 'Edit config.json as the message says (or delete it to use the defaults); Pavise will not start until it is valid.' };
}

export async function checkConfigNoSecrets(audit: Audit): Promise<Finding[]> {
  const raw = await audit.rawConfig();
  if (!raw.exists) return [{ severity: 'ok', message: 'No config.json, so no secrets in it.', fix: '' }];
  if (raw.text === undefined) {
    return [{ severity: 'warn', message: `config.json could not be read (${raw.readError ?? 'error'}), so it was not checked for secrets.`, fix: `Check its permissions: ls -l ${shellQuote(audit.paths.config)}` }];
  }
  const findings: Finding[] = [];
  const removeFix = (where: string, kind: string) =>
    `Remove ${where} from config.json, then store the value in the Keychain with \`pavise secrets set ${secretNameFor(kind)}\` (it reads stdin). ` +
    'Treat the key as exposed: rotate it at its provider.';
  if (raw.json !== undefined) {
    for (const found of findKeyShapedFields(raw.json)) {
      findings.push({
        severity: 'critical',
        message: `config.json holds a secret at ${found.path} (${found.kind}); secrets belong in the Keychain only.`,
        fix: removeFix(found.path, found.kind),
      });
    }
  } else {
    for (const { line, kind } of linesWithKeyShapes(raw.text)) {
      findings.push({ severity: 'critical', message: `config.json line ${line} holds a string shaped like ${withArticle(kind)}.`, fix: removeFix(`it (line ${line})`, kind) });
    }
  }
  // A stored secret's value anywhere in the text; key-shaped values were reported above already.
  for (const secret of await audit.knownSecrets()) {
    if (keyShapeOf(secret.value) !== undefined) continue;
    const line = lineOf(raw.text, secret.needles);
    if (line !== undefined) {
      findings.push({ severity: 'critical', message: `config.json line ${line} contains ${secret.label}.`, fix: removeFix(`it (line ${line})`, 'secret') });
    }
  }
  if (findings.length === 0) {
    const compared = (await audit.secrets()).ok ? ' or stored secret values' : ' (stored secret values not compared: the Keychain is unreachable)';
    return [{ severity: 'ok', message: `config.json holds no key-shaped values${compared}.`, fix: '' }];
  }
  return findings;
}

function secretNameFor(kind: string): string {
  if (/Anthropic/.test(kind)) return 'anthropic';
  if (/OpenAI/.test(kind)) return 'openai';
  if (/Telegram/.test(kind)) return 'telegram';
  return 'NAME';
}
