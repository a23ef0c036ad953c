import type { Effect } from '../common/effects.js';
import type { Provenance, UntrustedSource } from '../common/messages.js';

/**
 * Where one value of an effect comes from, as data the host evaluates against the call's input: an argument, a
 * string with `{argument}` placeholders (a `[...]` segment is dropped when a placeholder in it is absent), or the
 * host name of a URL argument. An array argument renders as its items joined by ", ". `eachOf` names an array
 * argument and makes the effect one per item (none when it is absent or empty), this field taking the item: each
 * attendee of an event is a send of its own. An item the host knows as the owner's own address is no send.
 */
export type ValueTemplate = { readonly arg: string } | { readonly template: string } | { readonly hostOf: string } | { readonly eachOf: string };

/** One effect of a call, described as data. Field names are those of `Effect` (main/common/effects.ts). */
export type EffectTemplate =
  | { readonly kind: 'read_private'; readonly what: ValueTemplate }
  | { readonly kind: 'write_local'; readonly what: ValueTemplate; readonly path?: ValueTemplate }
  | { readonly kind: 'send_message'; readonly channel: ValueTemplate; readonly recipient: ValueTemplate; readonly text: ValueTemplate }
  | { readonly kind: 'execute'; readonly argv: ValueTemplate; readonly cwd?: ValueTemplate; readonly network?: ValueTemplate }
  | {
      readonly kind: 'network';
      readonly host: ValueTemplate;
      readonly url?: ValueTemplate;
      readonly method?: ValueTemplate;
      readonly body?: ValueTemplate;
    }
  | { readonly kind: 'spend'; readonly amountUsd: ValueTemplate; readonly what: ValueTemplate }
  | { readonly kind: 'modify_calendar'; readonly what: ValueTemplate }
  | { readonly kind: 'delete'; readonly target: ValueTemplate }
  | { readonly kind: 'control_device'; readonly entity: ValueTemplate; readonly action: ValueTemplate; readonly data?: ValueTemplate };

/**
 * The provenance of what a tool returns, which the host applies: `trigger` is as trusted as whoever started the turn,
 * `untrusted` is read from outside, and `per-result` tools label each result themselves (a result without a label is
 * untrusted).
 */
export type OutputLabel =
  | { readonly kind: 'trigger' }
  | { readonly kind: 'untrusted'; readonly source: UntrustedSource; readonly detail?: string }
  | { readonly kind: 'per-result' };

/**
 * The line a human reads before approving a call: `{argument}` placeholders, `[...]` optional segments, and the
 * host's filters `{channel|channel_name}` (iMessage, Telegram message) and `{to|recipient}` (the recipient as the
 * host resolved it) `{argv|first}` (an array's first item) and
 * `{argv|words}` (an array's items joined by spaces). Alternatives are tried in order; the first whose required placeholders are all present is used.
 */
export type SummaryTemplate = string | readonly string[];

export interface ToolDescriptor {
  readonly name: string;
  readonly description: string;
  /** A JSON Schema object (`type: 'object'`, `properties`, `required`). */
  readonly inputSchema: Readonly<Record<string, unknown>>;
  /** `[]` means no effect; required, so a tool without a declaration does not load. */
  readonly effects: readonly EffectTemplate[];
  readonly summary: SummaryTemplate;
  readonly output: OutputLabel;
}

export interface ToolCallContext {
  readonly sessionId: string;
  /**
   * The call's effects as the host evaluated them before the gate decided (a send's recipient already resolved):
   * what the card showed and the approval hash bound. A tool acts on these, never on a second resolution.
   */
  readonly effects?: readonly Effect[];
  /** The model's id for this call: stable across a retried execution, so usable as an idempotency key. */
  readonly callId: string;
  readonly signal: AbortSignal;
  /**
   * The gate found that the owner started this turn and it read nothing untrusted, so what the call writes is the
   * owner's (a file written now counts as created by the owner). Absent means it does not count as the owner's.
   */
  readonly ownerDirected?: boolean;
}

export interface ToolResult {
  readonly content: string;
  readonly isError?: boolean;
  /** Read only for tools whose descriptor says `per-result`, or when weaker than the declared label. */
  readonly provenance?: Provenance;
}

export type ParseResult = { readonly success: true; readonly data: unknown } | { readonly success: false; readonly problems: string };

/** A provider of tools: the built-ins today, skills and MCP servers later. */
export interface ToolSource {
  readonly id: string;
  list(signal: AbortSignal): Promise<readonly ToolDescriptor[]>;
  call(name: string, input: unknown, context: ToolCallContext): Promise<ToolResult>;
  /**
   * Host-side validation of a call's input, for sources built in the host (zod). Sources without it are validated
   * against their descriptors' JSON Schema.
   */
  parse?(name: string, input: unknown): ParseResult;
}
