/**
 * Strings that look like credentials. Used to refuse secrets in config.json (invariant 2) and, later, by the
 * audit and the log scrubber. Patterns follow the public formats of each provider's keys.
 */
const KEY_PATTERNS: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  { name: 'Anthropic API key', pattern: /sk-ant-[A-Za-z0-9_-]{16,}/ },
  { name: 'OpenAI API key', pattern: /sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/ },
  { name: 'OpenRouter API key', pattern: /sk-or-v1-[A-Za-z0-9]{20,}/ },
  { name: 'Telegram bot token', pattern: /\b\d{6,12}:AA[A-Za-z0-9_-]{30,}\b/ },
  { name: 'GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b/ },
  { name: 'Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { name: 'AWS access key', pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/ },
  { name: 'Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { name: 'private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
];

/** Field names that only ever hold secrets, whatever their value looks like. */
const SECRET_FIELD = /^(?:api[_-]?key|apikey|secret|token|bot[_-]?token|password|passwd|access[_-]?token|auth[_-]?token)$/i;

export function keyShapeOf(value: string): string | undefined {
  for (const { name, pattern } of KEY_PATTERNS) if (pattern.test(value)) return name;
  return undefined;
}

export interface KeyShapedField {
  readonly path: string;
  readonly kind: string;
}

/** Walks parsed JSON and reports every key-shaped value or secret-named field with a non-empty value. */
export function findKeyShapedFields(value: unknown, path = ''): KeyShapedField[] {
  if (typeof value === 'string') {
    const kind = keyShapeOf(value);
    return kind ? [{ path: path || '(root)', kind }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => findKeyShapedFields(item, `${path}[${index}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, child]) => {
      const childPath = path ? `${path}.${key}` : key;
      if (SECRET_FIELD.test(key) && typeof child === 'string' && child.length > 0) {
        return [{ path: childPath, kind: keyShapeOf(child) ?? 'secret' }];
      }
      return findKeyShapedFields(child, childPath);
    });
  }
  return [];
}
