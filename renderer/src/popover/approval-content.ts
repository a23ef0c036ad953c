import type { ApprovalView, ArgumentOriginView } from '../../../main/common/approvals.js';
import type { Effect } from '../../../main/common/effects.js';
import { revealInvisible } from '../../../main/common/visible-text.js';
import { calendarContent } from './calendar-content.js';

/** What an approval card shows as "the exact content": the message, the argv, the event — never a paraphrase. */
export type ContentPiece =
  | { readonly kind: 'text'; readonly label: string; readonly text: string }
  | { readonly kind: 'argv'; readonly label: string; readonly argv: readonly string[]; readonly cwd?: string }
  | { readonly kind: 'fields'; readonly label: string; readonly fields: readonly (readonly [string, string])[] };

export function contentOf(approval: Pick<ApprovalView, 'effects' | 'input'> & Partial<Pick<ApprovalView, 'tool'>>): ContentPiece[] {
  const calendar = approval.tool === undefined ? undefined : calendarContent({ ...approval, tool: approval.tool });
  if (calendar) return calendar;
  const file = fileContent(approval);
  if (file) return file;
  const pieces = approval.effects.flatMap(effectContent);
  if (pieces.length > 0) return pieces;
  return [{ kind: 'fields', label: 'Exact request', fields: fieldsOf(approval.input) }];
}

/** write_file: its effect names the file; what goes into it is the call's content, shown whole. */
function fileContent(approval: Pick<ApprovalView, 'effects' | 'input'> & Partial<Pick<ApprovalView, 'tool'>>): ContentPiece[] | undefined {
  if (approval.tool !== 'write_file') return undefined;
  const { path, content } = (approval.input ?? {}) as { path?: unknown; content?: unknown };
  if (typeof content !== 'string') return undefined;
  const where = approval.effects.find((effect) => effect.kind === 'write_local')?.path ?? (typeof path === 'string' ? path : undefined);
  return [
    ...(where !== undefined ? [{ kind: 'fields', label: 'Where', fields: [['Path', revealInvisible(where)]] } as const] : []),
    { kind: 'text', label: 'To be written, exactly', text: revealInvisible(content) },
  ];
}

function effectContent(effect: Effect): ContentPiece[] {
  const show = revealInvisible;
  switch (effect.kind) {
    case 'send_message':
      return [{ kind: 'text', label: 'Message, exactly as it would be sent', text: show(effect.text) }];
    case 'execute':
      return [
        // First, before the command itself: a networked command can reach any server.
        ...(effect.network === true
          ? [{ kind: 'fields', label: 'WITH NETWORK ACCESS', fields: [['Network', 'This command can reach any server on the internet or your network.']] } as const]
          : []),
        { kind: 'argv', label: 'Command, argument by argument', argv: effect.argv.map(show), ...(effect.cwd ? { cwd: show(effect.cwd) } : {}) },
        ...(effect.executable
          ? [{ kind: 'fields', label: 'Program', fields: [['Path', show(effect.executable)], ['SHA-256', effect.sha256 ?? 'unknown']] } as const]
          : []),
      ];
    case 'network': {
      const fields: [string, string][] = [
        ['Method', show(effect.method ?? 'GET')],
        [effect.url ? 'URL' : 'Host', show(effect.url ?? effect.host)],
      ];
      const pieces: ContentPiece[] = [{ kind: 'fields', label: 'Request', fields }];
      if (effect.body) pieces.push({ kind: 'text', label: 'Body, exactly as it would be sent', text: show(effect.body) });
      return pieces;
    }
    case 'spend':
      return [{ kind: 'fields', label: 'Payment', fields: [['Amount', Number.isFinite(effect.amountUsd) ? `$${effect.amountUsd.toFixed(2)}` : 'not stated'], ['For', show(effect.what)]] }];
    case 'delete':
      return [{ kind: 'fields', label: 'To be deleted', fields: [['Target', show(effect.target)]] }];
    case 'write_local':
      return [
        ...(effect.path ? [{ kind: 'fields', label: 'Where', fields: [['Path', show(effect.path)]] } as const] : []),
        { kind: 'text', label: 'To be written, exactly', text: show(effect.what) },
      ];
    case 'modify_calendar':
      return [{ kind: 'text', label: 'Calendar change, exactly', text: show(effect.what) }];
    case 'read_private':
      return [{ kind: 'text', label: 'What it would read', text: show(effect.what) }];
    case 'control_device': {
      // The service data whole: the address a device would fetch, the message it would send, another device it names.
      const fields: [string, string][] = [['Device', show(effect.entity)], ['Action', show(effect.action)]];
      if (effect.data !== undefined) fields.push(['Service data', show(effect.data)]);
      return [{ kind: 'fields', label: 'Device', fields }];
    }
  }
}

function fieldsOf(input: unknown): [string, string][] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return [['Input', revealInvisible(JSON.stringify(input) ?? String(input))]];
  return Object.entries(input as Record<string, unknown>).map(([key, value]) => [
    humanKey(key),
    revealInvisible(typeof value === 'string' ? value : JSON.stringify(value)),
  ]);
}

export interface OriginLine {
  readonly label: string;
  readonly value: string;
  readonly origin: ArgumentOriginView['origin'];
  readonly from: string;
}

const ORIGIN_ORDER: Readonly<Record<ArgumentOriginView['origin'], number>> = { untrusted: 0, model: 1, contact: 2, owner: 3 };

/** Each argument's origin, once per value: the effect's own name for a field wins over the raw input path. */
export function originLines(origins: readonly ArgumentOriginView[]): OriginLine[] {
  const byValue = new Map<string, OriginLine & { effectLabel: boolean }>();
  for (const origin of origins) {
    const key = `${origin.origin}\u0000${origin.from}\u0000${origin.value}`;
    const effectLabel = origin.path.startsWith('effect');
    const line = { label: pathLabel(origin.path), value: revealInvisible(origin.value), origin: origin.origin, from: revealInvisible(origin.from), effectLabel };
    const known = byValue.get(key);
    if (!known || (effectLabel && !known.effectLabel)) byValue.set(key, line);
  }
  return [...byValue.values()]
    .sort((a, b) => ORIGIN_ORDER[a.origin] - ORIGIN_ORDER[b.origin])
    .map(({ label, value, origin, from }) => ({ label, value, origin, from }));
}

const EFFECT_FIELDS: Readonly<Record<string, string>> = {
  recipient: 'Recipient',
  via: 'Name used',
  host: 'Server',
  url: 'URL',
  target: 'Target',
  amount: 'Amount',
  path: 'Path',
};

function pathLabel(path: string): string {
  const effect = /^effect\d+\.(.+)$/.exec(path);
  if (effect) {
    const field = effect[1] ?? '';
    const arg = /^argv\[(\d+)\]$/.exec(field);
    if (arg) return Number(arg[1]) === 0 ? 'Command' : `Argument ${arg[1]}`;
    return EFFECT_FIELDS[field] ?? humanKey(field);
  }
  return path
    .split('.')
    .map((part) => humanKey(part.replace(/\[(\d+)\]/g, (_m, index: string) => ` ${Number(index) + 1}`)))
    .join(' › ');
}

function humanKey(key: string): string {
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Splits revealed text into plain runs and the visible marks that stand for invisible characters. */
export function splitMarks(text: string): { readonly text: string; readonly mark: boolean }[] {
  const parts: { text: string; mark: boolean }[] = [];
  let last = 0;
  for (const match of text.matchAll(/⟦(?:[A-Z]{2,4}|U\+[0-9A-F]{4,6})⟧/g)) {
    if (match.index > last) parts.push({ text: text.slice(last, match.index), mark: false });
    parts.push({ text: match[0], mark: true });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), mark: false });
  return parts;
}

export const RISK_WORDS = { low: 'Low risk', medium: 'Medium risk', high: 'High risk' } as const;

/**
 * The card's sentence. A tool's one-line description may end with the content in quotes (a message, a note); the
 * card shows that content whole in its own block, so the sentence stops before it ("Send iMessage to Sam").
 */
export function cardTitle(approval: Pick<ApprovalView, 'title' | 'effects' | 'input'> & Partial<Pick<ApprovalView, 'tool'>>): string {
  const title = revealInvisible(approval.title);
  for (const piece of contentOf(approval)) {
    if (piece.kind !== 'text') continue;
    const suffix = `: "${piece.text}"`;
    if (title.endsWith(suffix) && title.length > suffix.length) return title.slice(0, -suffix.length);
    // A description that quotes the content whole is itself the content ("Save a note: "…"").
    const quoted = /^(.+?): "([\s\S]*)"$/.exec(piece.text);
    if (quoted && title === piece.text) return quoted[1] as string;
  }
  return title;
}
