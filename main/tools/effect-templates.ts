import { CHANNEL_DISPLAY_NAMES } from '../common/channels.js';
import { EFFECT_KINDS, type Effect, type EffectKind } from '../common/effects.js';
import type { Provenance, UntrustedSource } from '../common/messages.js';
import type { EffectTemplate, OutputLabel, ToolDescriptor, ToolResult, ValueTemplate } from './source.js';

/**
 * The host's side of tool descriptors: it checks them when a source registers, evaluates their effect templates
 * against a call's input, writes the approval line, and applies the output label. Tools never run any of this.
 */

type FieldType = 'string' | 'number' | 'string[]' | 'boolean';
interface FieldSpec {
  readonly type: FieldType;
  readonly required: boolean;
}

const S: FieldSpec = { type: 'string', required: true };
const OPTIONAL_S: FieldSpec = { type: 'string', required: false };

/** The fields of each effect kind, as `Effect` in main/common/effects.ts declares them. */
const FIELDS: Readonly<Record<EffectKind, Readonly<Record<string, FieldSpec>>>> = {
  read_private: { what: S },
  write_local: { what: S, path: OPTIONAL_S },
  send_message: { channel: S, recipient: S, text: S },
  execute: { argv: { type: 'string[]', required: true }, cwd: OPTIONAL_S, network: { type: 'boolean', required: false } },
  network: { host: S, url: OPTIONAL_S, method: OPTIONAL_S, body: OPTIONAL_S },
  spend: { amountUsd: { type: 'number', required: true }, what: S },
  modify_calendar: { what: S },
  delete: { target: S },
  control_device: { entity: S, action: S, data: OPTIONAL_S },
};

const UNTRUSTED_SOURCES: readonly UntrustedSource[] = ['non_owner_sender', 'web', 'email', 'calendar_invite', 'file', 'tool_output'];
const SUMMARY_FILTERS = ['channel_name', 'recipient', 'first', 'words', 'flag'] as const;
const TOOL_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;

/** What the host knows that a template cannot: which conversation a name or handle means. */
export interface EffectHost {
  resolveRecipient?(channel: string, to: string): { readonly recipient: string; readonly name?: string | undefined } | undefined;
  /** Whether `address` is one of the owner's own (an attendee who is the owner is mailed nothing). */
  isOwnAddress?(channel: string, address: string): boolean;
  /**
   * The program and working folder a command really means (after links), the program's SHA-256, and whether it is a
   * read-only command the owner lets run unasked, for the tool `tool`. Never throws: what cannot be resolved is left out.
   */
  resolveExecute?(tool: string, argv: readonly string[], cwd: string | undefined): ExecuteResolution;
  /** Brings what resolveRecipient reads up to date (the address book) before a call's effects are evaluated. */
  prepare?(descriptor: ToolDescriptor, input: unknown, signal?: AbortSignal): Promise<void>;
}

export interface ExecuteResolution {
  readonly cwd?: string;
  readonly executable?: string;
  readonly sha256?: string;
  readonly readOnly: boolean;
}

export class DescriptorError extends Error {
  override readonly name = 'DescriptorError';
}

/** Refuses a descriptor whose templates or output label the host cannot evaluate safely. */
export function checkDescriptor(descriptor: ToolDescriptor, sourceId: string): void {
  const fail = (problem: string): never => {
    throw new DescriptorError(`Tool "${String(descriptor.name)}" from source "${sourceId}" is refused: ${problem}`);
  };
  if (typeof descriptor.name !== 'string' || !TOOL_NAME.test(descriptor.name)) fail('its name is not a valid identifier (letters, digits, _ and -, at most 64).');
  if (typeof descriptor.description !== 'string') fail('it has no description.');
  const schema = descriptor.inputSchema as { type?: unknown; properties?: unknown; required?: unknown } | undefined;
  if (!schema || schema.type !== 'object') fail('its inputSchema must be a JSON Schema with type "object".');
  const properties = (schema?.properties ?? {}) as Record<string, unknown>;
  const required = new Set(Array.isArray(schema?.required) ? (schema.required as string[]) : []);
  const argType = (name: string): FieldType | 'other' | undefined => (name in properties ? jsonType(properties[name]) : undefined);

  if (!Array.isArray(descriptor.effects)) fail('it declares no effects; declare [] for a tool without effects.');
  for (const template of descriptor.effects) {
    const fields = FIELDS[template.kind];
    if (!EFFECT_KINDS.includes(template.kind) || !fields) fail(`"${String(template.kind)}" is not an effect kind (${EFFECT_KINDS.join(', ')}).`);
    for (const key of Object.keys(template)) {
      if (key !== 'kind' && !(key in fields)) fail(`a ${template.kind} effect has no field "${key}".`);
    }
    if (eachOfArgs(template).length > 1) fail(`a ${template.kind} effect may take the items of one list only.`);
    for (const [field, spec] of Object.entries(fields)) {
      const value = (template as unknown as Record<string, ValueTemplate | undefined>)[field];
      const where = `the ${template.kind} effect's ${field}`;
      if (value === undefined) {
        if (spec.required) fail(`${where} is missing.`);
        continue;
      }
      checkValueTemplate(value, spec, where, argType, required, fail);
    }
  }

  const summaries = typeof descriptor.summary === 'string' ? [descriptor.summary] : descriptor.summary;
  if (!Array.isArray(summaries) || summaries.length === 0 || summaries.some((summary) => typeof summary !== 'string')) {
    fail('it needs a summary template (a string, or a list of alternatives).');
  }
  for (const summary of summaries) {
    for (const { name, filter } of placeholders(summary)) {
      if (argType(name) === undefined) fail(`its summary names "{${name}}", which is not an argument of its inputSchema.`);
      if (filter !== undefined && !(SUMMARY_FILTERS as readonly string[]).includes(filter)) {
        fail(`its summary uses the filter "${filter}"; the host knows ${SUMMARY_FILTERS.join(', ')}.`);
      }
    }
  }

  const output = descriptor.output as OutputLabel | undefined;
  if (!output) fail('it declares no output label; say "trigger", "untrusted" (with its source) or "per-result".');
  if (output?.kind === 'untrusted') {
    if (!UNTRUSTED_SOURCES.includes(output.source)) fail(`its untrusted output needs a source (${UNTRUSTED_SOURCES.join(', ')}).`);
  } else if (output?.kind !== 'trigger' && output?.kind !== 'per-result') {
    fail(`"${String((output as unknown as { kind?: unknown }).kind)}" is not an output label; use "trigger", "untrusted" or "per-result".`);
  }
}

function checkValueTemplate(
  value: ValueTemplate,
  spec: FieldSpec,
  where: string,
  argType: (name: string) => FieldType | 'other' | undefined,
  required: ReadonlySet<string>,
  fail: (problem: string) => never,
): void {
  const named = (name: unknown, expected: FieldType): void => {
    if (typeof name !== 'string' || argType(name) === undefined) fail(`${where} names the argument "${String(name)}", which its inputSchema does not have.`);
    const actual = argType(name as string);
    if (actual !== expected) fail(`${where} needs a ${expected} but the argument "${String(name)}" is ${actual === 'other' ? 'of another type' : `a ${actual}`}.`);
    if (spec.required && !required.has(name as string)) fail(`${where} is required but the argument "${String(name)}" is optional in the inputSchema.`);
  };
  if ('arg' in value) return named(value.arg, spec.type);
  if ('eachOf' in value) {
    if (spec.type !== 'string') fail(`${where} needs a ${spec.type}, not one item of a list.`);
    if (typeof value.eachOf !== 'string' || argType(value.eachOf) !== 'string[]') fail(`${where} takes each item of "${String(value.eachOf)}", which must be an array of strings in its inputSchema (it is not a list of strings).`);
    return;
  }
  if ('hostOf' in value) {
    if (spec.type !== 'string') fail(`${where} needs a ${spec.type}, not a host name.`);
    return named(value.hostOf, 'string');
  }
  if ('template' in value && typeof value.template === 'string') {
    if (spec.type !== 'string') fail(`${where} needs a ${spec.type}, not a text template.`);
    for (const { name, filter } of placeholders(value.template)) {
      if (argType(name) === undefined) fail(`${where} names "{${name}}", which is not an argument of its inputSchema.`);
      if (filter !== undefined) fail(`${where} uses a filter; filters are only for the summary.`);
    }
    return;
  }
  fail(`${where} must be { arg }, { template }, { hostOf } or { eachOf }.`);
}

/** The JSON Schema type of one property, as far as effect fields care. */
function jsonType(schema: unknown): FieldType | 'other' {
  if (!schema || typeof schema !== 'object') return 'other';
  const { type, enum: values, items } = schema as { type?: unknown; enum?: unknown; items?: unknown };
  if (type === 'string' || (type === undefined && Array.isArray(values) && values.every((item) => typeof item === 'string'))) return 'string';
  if (type === 'number' || type === 'integer') return 'number';
  if (type === 'boolean') return 'boolean';
  if (type === 'array' && jsonType(items) === 'string') return 'string[]';
  return 'other';
}

/**
 * The concrete effects of one call. Throws an Error naming the problem when an argument has the wrong type or a
 * required one is missing; the gate turns that into a deny.
 */
export function evaluateEffects(descriptor: ToolDescriptor, input: unknown, host: EffectHost = {}): Effect[] {
  const args = asArgs(descriptor, input);
  return descriptor.effects.flatMap((template) => {
    const [list] = eachOfArgs(template);
    if (list === undefined) return [evaluateEffect(descriptor, template, args, host)];
    const items = args[list];
    // An optional list left out (or empty) has no such effect; a required one must name at least one item.
    const required = (descriptor.inputSchema as { required?: unknown }).required;
    const isRequired = Array.isArray(required) && required.includes(list);
    if ((items === undefined || items === null || (Array.isArray(items) && items.length === 0)) && !isRequired) return [];
    if (!Array.isArray(items) || items.length === 0) throw new Error(`${descriptor.name}: the argument "${list}" must be a non-empty list.`);
    if (!items.every((item) => typeof item === 'string')) throw new Error(`${descriptor.name}: the argument "${list}" must be a list of strings.`);
    const seen = new Set<string>();
    return items.flatMap((item) => {
      const key = item.trim().toLowerCase();
      if (seen.has(key)) return [];
      seen.add(key);
      const effect = evaluateEffect(descriptor, template, { ...args, [EACH_ITEM]: item.trim() }, host);
      return effect.kind === 'send_message' && host.isOwnAddress?.(effect.channel, effect.recipient) ? [] : [effect];
    });
  });
}

const EACH_ITEM = '\u0000item';

function eachOfArgs(template: EffectTemplate): string[] {
  return Object.values(template).flatMap((value: unknown) =>
    value && typeof value === 'object' && 'eachOf' in value && typeof value.eachOf === 'string' ? [value.eachOf] : [],
  );
}

function evaluateEffect(descriptor: ToolDescriptor, template: EffectTemplate, args: Readonly<Record<string, unknown>>, host: EffectHost): Effect {
  const fields = FIELDS[template.kind];
  const effect: Record<string, unknown> = { kind: template.kind };
  for (const [field, spec] of Object.entries(fields)) {
    const value = (template as unknown as Record<string, ValueTemplate | undefined>)[field];
    if (value === undefined) continue;
    const evaluated = evaluateValue(value, args, descriptor.name);
    if (evaluated === undefined) {
      if (spec.required) throw new Error(`${descriptor.name}: the ${template.kind} effect's ${field} has no value in this call.`);
      continue;
    }
    if (!hasType(evaluated, spec.type)) throw new Error(`${descriptor.name}: the ${template.kind} effect's ${field} must be a ${spec.type}.`);
    effect[field] = evaluated;
  }
  if (template.kind === 'send_message') return resolveRecipient(effect as Extract<Effect, { kind: 'send_message' }>, host);
  if (template.kind === 'execute') return resolveExecute(descriptor.name, effect as Extract<Effect, { kind: 'execute' }>, host);
  return effect as unknown as Effect;
}

function resolveRecipient(effect: Extract<Effect, { kind: 'send_message' }>, host: EffectHost): Effect {
  if (!host.resolveRecipient) return effect;
  const to = effect.recipient.trim();
  const resolved = host.resolveRecipient(effect.channel, to);
  const recipient = resolved?.recipient ?? to;
  const name = resolved?.name;
  return { ...effect, recipient, ...(recipient !== to ? { via: to } : {}), ...(name ? { name } : {}) };
}

function resolveExecute(tool: string, effect: Extract<Effect, { kind: 'execute' }>, host: EffectHost): Effect {
  // Network is recorded only when granted, so "no network" has one form and an approval binds either one exactly.
  const { network, ...rest } = effect;
  const base = network === true ? { ...rest, network } : rest;
  if (!host.resolveExecute) return base;
  const { cwd, executable, sha256, readOnly } = host.resolveExecute(tool, effect.argv, effect.cwd);
  // A command with network is never a read-only one: it could carry what it reads anywhere.
  const quiet = readOnly && network !== true;
  return { ...base, ...(cwd ? { cwd } : {}), ...(executable ? { executable } : {}), ...(sha256 ? { sha256 } : {}), ...(quiet ? { readOnly: quiet } : {}) };
}

/** The approval card's line for one call, from the descriptor's summary and the evaluated effects. */
export function summarize(descriptor: ToolDescriptor, input: unknown, effects: readonly Effect[]): string {
  const args = asArgs(descriptor, input);
  const alternatives = typeof descriptor.summary === 'string' ? [descriptor.summary] : descriptor.summary;
  const filters = {
    channel_name: (value: unknown) =>
      value === 'imessage' ? `${CHANNEL_DISPLAY_NAMES.imessage}` : value === 'telegram' ? `${CHANNEL_DISPLAY_NAMES.telegram} message` : render(value),
    first: (value: unknown) => render(Array.isArray(value) ? value[0] : value),
    words: (value: unknown) => (Array.isArray(value) ? value.map(String).join(' ') : render(value)),
    // A switch: its `[...]` segment shows when it is on (false counts as absent), the value itself never.
    flag: () => '',
    recipient: (value: unknown) => {
      const send = effects.find((effect) => effect.kind === 'send_message');
      if (send?.kind !== 'send_message') return render(value);
      return send.via === undefined ? send.recipient : `${send.via} (${send.recipient})`;
    },
  };
  for (const summary of alternatives) {
    const line = fill(summary, args, (value, filter) => (filter ? filters[filter as keyof typeof filters](value) : render(value)));
    if (line !== undefined) return line;
  }
  return descriptor.name;
}

/** Applies the descriptor's output label: a tool never ends up more trusted than its descriptor allows. */
export function labelOutput(label: OutputLabel, result: ToolResult, toolName: string): ToolResult {
  const claimed = result.provenance;
  const { provenance: _dropped, ...rest } = result;
  switch (label.kind) {
    case 'trigger':
      // Only a weaker label than the trigger's is kept; the loop gives the rest the trigger's provenance.
      return claimed && claimed.kind !== 'owner' ? { ...rest, provenance: claimed } : rest;
    case 'untrusted': {
      const provenance: Provenance =
        claimed?.kind === 'untrusted' ? claimed : { kind: 'untrusted', source: label.source, ...(label.detail ? { detail: label.detail } : {}) };
      return { ...rest, provenance };
    }
    case 'per-result':
      return { ...rest, provenance: claimed ?? { kind: 'untrusted', source: 'tool_output', detail: `${toolName} gave its result no label` } };
  }
}

function asArgs(descriptor: ToolDescriptor, input: unknown): Readonly<Record<string, unknown>> {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new Error(`${descriptor.name}: the arguments must be an object.`);
  return input as Record<string, unknown>;
}

function evaluateValue(value: ValueTemplate, args: Readonly<Record<string, unknown>>, tool: string): unknown {
  if ('arg' in value) return args[value.arg];
  if ('eachOf' in value) return args[EACH_ITEM];
  if ('hostOf' in value) {
    const url = args[value.hostOf];
    if (url === undefined) return undefined;
    if (typeof url !== 'string') throw new Error(`${tool}: the argument "${value.hostOf}" must be a URL string.`);
    return URL.canParse(url) ? new URL(url).hostname : '';
  }
  return fill(value.template, args, render);
}

function hasType(value: unknown, type: FieldType): boolean {
  if (type === 'string') return typeof value === 'string';
  if (type === 'number') return typeof value === 'number' && Number.isFinite(value);
  if (type === 'boolean') return typeof value === 'boolean';
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function render(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join(', ');
  // An object (a service's data) is shown as the JSON it is sent as, never as "[object Object]".
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
}

const PLACEHOLDER = /\{([a-zA-Z_][a-zA-Z0-9_]*)(?:\|([a-z_]+))?\}/g;

function placeholders(template: string): { name: string; filter: string | undefined }[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => ({ name: match[1] ?? '', filter: match[2] }));
}

function absent(value: unknown): boolean {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return Object.keys(value).length === 0;
  return value === undefined || value === null || value === false || (Array.isArray(value) && value.length === 0);
}

/**
 * Fills `{name}` placeholders; a `[...]` segment is dropped when one of its placeholders is absent, and the whole
 * template gives undefined when a placeholder outside any segment is.
 */
function fill(template: string, args: Readonly<Record<string, unknown>>, format: (value: unknown, filter: string | undefined) => string): string | undefined {
  const segment = (text: string): string | undefined => {
    let missing = false;
    const filled = text.replace(PLACEHOLDER, (_whole, name: string, filter: string | undefined) => {
      const value = args[name];
      if (absent(value)) {
        missing = true;
        return '';
      }
      return format(value, filter);
    });
    return missing ? undefined : filled;
  };
  let out = '';
  for (const [index, part] of template.split(/\[([^\]]*)\]/).entries()) {
    const filled = segment(part);
    if (index % 2 === 1) out += filled ?? '';
    else if (filled === undefined) return undefined;
    else out += filled;
  }
  return out;
}
