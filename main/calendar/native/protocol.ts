import type { CalendarEntity, CalendarEvent, CalendarInfo, ContactCard } from '../../common/calendar.js';
import { validateJson } from '../../tools/json-schema.js';
import schema from './protocol.schema.json' with { type: 'json' };

/**
 * The calendar helper's stdio protocol, typed for the host. The shapes live once, in protocol.schema.json, which
 * the helper's own tests read too; `checkRequest` and `checkResponse` hold both sides to it.
 */

export const PROTOCOL_VERSION = 1;

type Iso = string;

export type HelperRequest =
  | { readonly v: 1; readonly op: 'status' }
  | { readonly v: 1; readonly op: 'requestAccess'; readonly entity: CalendarEntity }
  | { readonly v: 1; readonly op: 'listCalendars' }
  | { readonly v: 1; readonly op: 'listEvents'; readonly from: Iso; readonly to: Iso; readonly calendars?: readonly string[]; readonly limit?: number }
  | { readonly v: 1; readonly op: 'getEvent'; readonly id: string }
  | {
      readonly v: 1;
      readonly op: 'createEvent';
      readonly title: string;
      readonly start: Iso;
      readonly end: Iso;
      readonly timeZone: string;
      readonly allDay: boolean;
      readonly calendar?: string;
      readonly location?: string;
      readonly notes?: string;
      readonly attendees?: readonly string[];
    }
  | { readonly v: 1; readonly op: 'moveEvent'; readonly id: string; readonly start: Iso; readonly end: Iso; readonly timeZone: string }
  | { readonly v: 1; readonly op: 'deleteEvent'; readonly id: string }
  | { readonly v: 1; readonly op: 'respondToInvitation'; readonly id: string; readonly response: 'accepted' | 'declined' | 'tentative' }
  | { readonly v: 1; readonly op: 'listContacts'; readonly limit?: number };

export type HelperOp = HelperRequest['op'];

export type EventAccess = 'not-determined' | 'restricted' | 'denied' | 'full' | 'write-only';
export type ContactAccess = 'not-determined' | 'restricted' | 'denied' | 'full' | 'limited';

/** What a successful response carries, per op. */
export interface HelperResults {
  status: { readonly events: EventAccess; readonly contacts: ContactAccess; readonly macos: string };
  requestAccess: { readonly granted: boolean };
  listCalendars: { readonly calendars: readonly CalendarInfo[] };
  listEvents: { readonly events: readonly CalendarEvent[]; readonly truncated: boolean };
  getEvent: { readonly event: CalendarEvent };
  createEvent: { readonly event: CalendarEvent };
  moveEvent: { readonly event: CalendarEvent };
  deleteEvent: { readonly deleted: string };
  respondToInvitation: { readonly event: CalendarEvent };
  listContacts: { readonly contacts: readonly ContactCard[]; readonly notesReadable: boolean; readonly me?: string };
}

export type HelperErrorCode = 'no-access' | 'not-found' | 'bad-request' | 'unsupported' | 'failed';

export type HelperResponse<Op extends HelperOp> =
  | { readonly ok: true; readonly result: HelperResults[Op] }
  | { readonly ok: false; readonly error: { readonly code: HelperErrorCode; readonly message: string; readonly entity?: CalendarEntity } };

type Schema = Readonly<Record<string, unknown>>;
const definitions = schema.definitions as Readonly<Record<string, Schema>>;

/** The schema with each `{ "$ref": "#/definitions/x" }` replaced by that definition (the validator has no $ref). */
function inline(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(inline);
  if (!node || typeof node !== 'object') return node;
  const ref = (node as { $ref?: unknown }).$ref;
  if (typeof ref === 'string') {
    const name = /^#\/definitions\/(\w+)$/.exec(ref)?.[1];
    const target = name === undefined ? undefined : definitions[name];
    if (!target) throw new Error(`protocol.schema.json: unknown reference ${ref}`);
    return inline(target);
  }
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, inline(value)]));
}

const requests = inline(schema.requests) as Readonly<Record<string, Schema>>;
const responses = inline(schema.responses) as Readonly<Record<string, Schema>>;

export const HELPER_OPS = Object.keys(requests) as HelperOp[];

/** The problems of a request against the schema of its op; empty when it is valid. */
export function checkRequest(request: unknown): string[] {
  const op = (request as { op?: unknown } | null)?.op;
  const shape = typeof op === 'string' && Object.hasOwn(requests, op) ? requests[op] : undefined;
  if (!shape) return [`request: unknown op ${JSON.stringify(op)}`];
  return validateJson(shape, request, 'request');
}

/** The problems of a response to `op` against the schema; empty when it is valid. */
export function checkResponse(op: HelperOp, response: unknown): string[] {
  if (!response || typeof response !== 'object') return ['response: expected an object'];
  const { ok } = response as { ok?: unknown };
  if (ok === false) return validateJson(responses.error as Schema, response, 'response');
  if (ok !== true) return ['response.ok: must be true or false'];
  const keys = Object.keys(response).filter((key) => key !== 'ok' && key !== 'result');
  if (keys.length > 0) return keys.map((key) => `response.${key}: not part of the protocol`);
  return validateJson(responses[op] as Schema, (response as { result?: unknown }).result, 'response.result');
}
