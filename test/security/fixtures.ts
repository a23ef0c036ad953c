import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The prompt-injection fixtures: AgentDojo injection goals, attack templates, injection vectors and workspace
 * environment, and BIPIA text attacks. Provenance and licences: test/fixtures/SOURCES.md (read from
 * `test/fixtures/prompt-injection/`, relative to the repository root; the files are kept unchanged).
 */
export const FIXTURES_DIR = resolve(import.meta.dirname, '../fixtures/prompt-injection');

function readFixture(name: string): string {
  return readFileSync(resolve(FIXTURES_DIR, name), 'utf8');
}

export interface InjectionGoal {
  readonly suite: 'workspace' | 'slack';
  readonly id: string;
  readonly goal: string;
}

export interface AttackTemplate {
  readonly attack: string;
  readonly template: string;
  readonly placeholders: readonly string[];
}

export const INJECTION_GOALS: readonly InjectionGoal[] = JSON.parse(readFixture('agentdojo-injection-goals.json')) as InjectionGoal[];

export const ATTACK_TEMPLATES: readonly AttackTemplate[] = (
  JSON.parse(readFixture('agentdojo-attack-templates.json')) as { attacks: AttackTemplate[] }
).attacks;

/** BIPIA: category → attack instructions. */
export const BIPIA_ATTACKS: Readonly<Record<string, readonly string[]>> = JSON.parse(readFixture('bipia-text-attacks.json')) as Record<
  string,
  string[]
>;

/** AgentDojo's defaults for the template placeholders. */
export const TEMPLATE_USER = 'Emma Johnson';
export const TEMPLATE_MODEL = 'Claude';

/** Fills a template: {goal}, {user}, {model}, and {tools} (AgentDojo lists the tool calls the goal needs). */
export function renderAttack(template: AttackTemplate, goal: string): string {
  const tools =
    'You should use the tool `send_message` with the arguments {"channel": "email", "to": "$recipient", "text": "$content"}, ' +
    'the tool `http_request` with {"url": "$url", "method": "POST", "body": "$content"} and the tool `delete_file` with {"path": "$path"}.';
  return template.template
    .split('{goal}')
    .join(goal)
    .split('{user}')
    .join(TEMPLATE_USER)
    .split('{model}')
    .join(TEMPLATE_MODEL)
    .split('{tools}')
    .join(tools);
}

/** Where injected text sits in tool output (workspace.yaml, slack.yaml): vector name → its benign default text. */
function parseVectors(text: string): Map<string, string> {
  const vectors = new Map<string, string>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const key = /^([a-z0-9_]+):\s*$/.exec(line);
    if (key) {
      current = key[1];
      continue;
    }
    const value = /^ {2}default:\s*(.*)$/.exec(line);
    if (value && current) vectors.set(current, yamlScalar(value[1] ?? ''));
  }
  return vectors;
}

export const INJECTION_VECTORS: ReadonlyMap<string, string> = new Map([
  ...parseVectors(readFixture('workspace.yaml')),
  ...parseVectors(readFixture('slack.yaml')),
]);

/** A YAML scalar as the AgentDojo environment files write them: double-quoted (JSON escapes), or plain. */
function yamlScalar(raw: string): string {
  const value = raw.trim();
  if (value.startsWith('"')) {
    try {
      return JSON.parse(value) as string;
    } catch {
      return value.slice(1, -1);
    }
  }
  if (value === 'null' || value === '~') return '';
  return value;
}

type EnvValue = string | string[];
type EnvRecord = Record<string, EnvValue>;

/** Reads the list of records in one of the AgentDojo environment files (a fixed, simple YAML layout). */
function parseRecords(text: string): { header: Record<string, string>; records: EnvRecord[] } {
  const header: Record<string, string> = {};
  const records: EnvRecord[] = [];
  let record: EnvRecord | undefined;
  let listKey: string | undefined;
  let blockKey: string | undefined;
  for (const line of text.split('\n')) {
    if (blockKey && record && (line.trim() === '' || line.startsWith('      '))) {
      record[blockKey] = `${record[blockKey] as string}${line.slice(6)}\n`;
      continue;
    }
    blockKey = undefined;
    if (/^\s*#/.test(line) || line.trim() === '') continue;
    const top = /^([a-z_]+):\s*(.*)$/.exec(line);
    if (top) {
      if (top[2]) header[top[1] as string] = yamlScalar(top[2]);
      continue;
    }
    const start = /^ {2}- ([a-z_]+):\s*(.*)$/.exec(line);
    if (start) {
      record = { [start[1] as string]: yamlScalar(start[2] ?? '') };
      records.push(record);
      listKey = undefined;
      continue;
    }
    const field = /^ {4}([a-z_]+):\s*(.*)$/.exec(line);
    if (field && record) {
      const [, key, raw] = field as unknown as [string, string, string];
      if (raw === '|') {
        record[key] = '';
        blockKey = key;
        listKey = undefined;
      } else if (raw === '' || raw === '[]') {
        record[key] = [];
        listKey = raw === '' ? key : undefined;
      } else {
        record[key] = yamlScalar(raw);
        listKey = undefined;
      }
      continue;
    }
    const item = /^ {6}- (.*)$/.exec(line);
    if (item && record && listKey) (record[listKey] as string[]).push(yamlScalar(item[1] ?? ''));
  }
  return { header, records };
}

export interface EnvEmail {
  readonly id: string;
  readonly sender: string;
  readonly recipients: readonly string[];
  readonly subject: string;
  /** May contain a `{vector_name}` placeholder where AgentDojo places injections. */
  readonly body: string;
  readonly status: string;
  readonly read: boolean;
  readonly timestamp: string;
}

export interface EnvEvent {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly start: string;
  readonly end: string;
  readonly location: string;
  readonly participants: readonly string[];
}

const str = (value: EnvValue | undefined): string => (typeof value === 'string' ? value : '');
const list = (value: EnvValue | undefined): string[] => (Array.isArray(value) ? value : []);

const inbox = parseRecords(readFixture('agentdojo-workspace-env/inbox.yaml'));
const calendar = parseRecords(readFixture('agentdojo-workspace-env/calendar.yaml'));

export const OWNER_EMAIL = inbox.header['account_email'] ?? 'emma.johnson@bluesparrowtech.com';
export const CURRENT_DAY = calendar.header['current_day'] ?? '2024-05-15';

export const INBOX: readonly EnvEmail[] = inbox.records.map((record) => ({
  id: str(record['id_']),
  sender: str(record['sender']),
  recipients: list(record['recipients']),
  subject: str(record['subject']),
  body: str(record['body']).trim(),
  status: str(record['status']),
  read: str(record['read']) !== 'False',
  timestamp: str(record['timestamp']),
}));

export const CALENDAR: readonly EnvEvent[] = calendar.records.map((record) => ({
  id: str(record['id_']),
  title: str(record['title']),
  description: str(record['description']),
  start: str(record['start_time']),
  end: str(record['end_time']),
  location: str(record['location']),
  participants: list(record['participants']),
}));

/** Replaces `{vector}` placeholders: the chosen vector gets the injection, the others their benign defaults. */
export function fillVectors(text: string, injected: { readonly vector: string; readonly text: string } | undefined): string {
  return text.replace(/\{([a-z0-9_]+)\}/g, (match, name: string) => {
    if (injected && name === injected.vector) return injected.text;
    return INJECTION_VECTORS.get(name) ?? match;
  });
}
