/**
 * A scan of a skill's text before install, for the review: it finds what OpenClaw's malicious skills did (piping a
 * download to a shell, reading SSH keys, the Keychain or browser profiles, installing launch agents, reading
 * secrets from the environment, hiding code in encoded blobs or minified lines). A finding does not block the
 * install; it is shown so the owner decides knowing it. The sandbox, not the scan, is what holds a skill in.
 */

export interface ScanFinding {
  readonly rule: string;
  readonly severity: 'warning' | 'danger';
  readonly file: string;
  readonly line: number;
  readonly excerpt: string;
}

interface Rule {
  readonly id: string;
  readonly severity: 'warning' | 'danger';
  readonly pattern: RegExp;
}

const RULES: readonly Rule[] = [
  { id: 'download piped to a shell', severity: 'danger', pattern: /\b(?:curl|wget)\b[^\n|]*\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b/i },
  { id: 'reads SSH keys', severity: 'danger', pattern: /\.ssh\/|\bid_(?:rsa|ed25519|ecdsa)\b|authorized_keys/ },
  { id: 'reads the Keychain', severity: 'danger', pattern: /\bsecurity\s+(?:find|dump)-(?:generic|internet)-password|Library\/Keychains|\bdump-keychain\b|secret-tool\s+lookup/i },
  {
    id: 'reads browser profiles',
    severity: 'danger',
    pattern: /Google\/Chrome|BraveSoftware|\.mozilla\/firefox|Firefox\/Profiles|Library\/Safari|Login Data|Cookies\.binarycookies|\bkey4\.db\b/,
  },
  { id: 'installs a launch agent or persistent job', severity: 'danger', pattern: /LaunchAgents|LaunchDaemons|\blaunchctl\s+(?:load|bootstrap)|\bcrontab\b|systemctl\s+--user\s+enable/ },
  {
    id: 'reads secrets from the environment',
    severity: 'warning',
    pattern: /(?:process\.env|os\.environ|getenv)\b[^\n]{0,40}(?:KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL)|\$\{?(?:ANTHROPIC|OPENAI|AWS|GITHUB|GH)_[A-Z_]*(?:KEY|TOKEN|SECRET)/i,
  },
  { id: 'evaluates decoded text', severity: 'danger', pattern: /\b(?:eval|Function|exec)\s*\(\s*(?:atob|Buffer\.from|base64|decodeURIComponent|unescape)\b|base64\s+(?:-d|--decode)\s*\|/ },
  { id: 'long encoded blob', severity: 'warning', pattern: /[A-Za-z0-9+/]{200,}={0,2}|(?:[0-9a-fA-F]{2}){150,}|(?:\\x[0-9a-fA-F]{2}){40,}/ },
];

const CODE_FILE = /\.(?:m?[jt]sx?|cjs|py|rb|sh|bash|zsh|pl|php|lua)$/i;
const MINIFIED_LINE = 400;
const MAX_FINDINGS = 100;

/** Scans text files (binary files are reported once as unreviewable). */
export function scanSkill(files: readonly { readonly path: string; readonly bytes: Uint8Array }[]): ScanFinding[] {
  const findings: ScanFinding[] = [];
  const add = (finding: ScanFinding) => {
    if (findings.length < MAX_FINDINGS) findings.push(finding);
  };
  for (const file of files) {
    if (looksBinary(file.bytes)) {
      add({ rule: 'binary file (cannot be reviewed as text)', severity: 'warning', file: file.path, line: 0, excerpt: `${file.bytes.length} bytes` });
      continue;
    }
    const lines = new TextDecoder().decode(file.bytes).split('\n');
    lines.forEach((text, index) => {
      for (const rule of RULES) {
        const match = rule.pattern.exec(text);
        if (match) add({ rule: rule.id, severity: rule.severity, file: file.path, line: index + 1, excerpt: excerpt(text, match.index) });
      }
      if (CODE_FILE.test(file.path) && text.length > MINIFIED_LINE) {
        add({ rule: 'minified or obfuscated code', severity: 'warning', file: file.path, line: index + 1, excerpt: `${text.length} characters on one line` });
      }
    });
  }
  return findings;
}

function looksBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 8000).includes(0);
}

function excerpt(line: string, at: number): string {
  const start = Math.max(0, at - 30);
  const text = line.slice(start, start + 100).trim();
  return `${start > 0 ? '…' : ''}${text}${start + 100 < line.length ? '…' : ''}`;
}
