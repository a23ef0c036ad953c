import type { ApprovalView } from '../../../main/common/approvals.js';
import { revealInvisible } from '../../../main/common/visible-text.js';
import type { ContentPiece } from './approval-content.js';

/**
 * A calendar change as the owner must see it before approving: what happens to which event, when (with its time
 * zone), in which calendar, who is mailed because of it, and whose invitation it is. Every value is the exact one
 * the approval is bound to (the call's arguments and evaluated effects), never re-read or reformatted into another
 * zone.
 */

const ACTIONS: Readonly<Record<string, string>> = {
  create_event: 'Add to your calendar',
  move_event: 'Move',
  delete_event: 'Delete',
  respond_to_invitation: 'Answer an invitation',
};

const ANSWERS: Readonly<Record<string, string>> = { accepted: 'Accept', declined: 'Decline', tentative: 'Maybe (tentative)' };

const ISO = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** "2026-12-05 12:00 (UTC+00:00)", read off the value itself. */
function when(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = ISO.exec(value);
  if (!match) return revealInvisible(value);
  const offset = match[3] === 'Z' ? '+00:00' : match[3];
  return `${match[1]} ${match[2]} (UTC${offset})`;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? revealInvisible(value) : undefined;
}

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string').map(revealInvisible) : [];
}

/** The card's content for a calendar tool's approval; undefined for any other. */
export function calendarContent(approval: Pick<ApprovalView, 'tool' | 'effects' | 'input'>): ContentPiece[] | undefined {
  const action = ACTIONS[approval.tool];
  if (!action || !approval.effects.some((effect) => effect.kind === 'modify_calendar')) return undefined;
  const input = (approval.input ?? {}) as Record<string, unknown>;
  const fields: [string, string][] = [['Action', approval.tool === 'respond_to_invitation' ? `${action}: ${ANSWERS[String(input.response)] ?? String(input.response)}` : action]];
  const add = (name: string, value: string | undefined) => {
    if (value !== undefined) fields.push([name, value]);
  };
  add('Title', text(input.title));
  const start = when(input.start);
  const end = when(input.end);
  add(approval.tool === 'delete_event' ? 'Starts' : approval.tool === 'move_event' ? 'New time' : 'When', start && end ? `${start} – ${end}` : start);
  add('Time zone', text(input.timeZone));
  if (approval.tool === 'create_event') add('Calendar', text(input.calendar) ?? 'Your default calendar');
  add('Location', text(input.location));
  add('Notes', text(input.notes));

  // Who gets mail because of this change: new attendees (each a send the gate decided), or the event's attendees.
  const invited = approval.effects.flatMap((effect) => (effect.kind === 'send_message' ? [revealInvisible(effect.recipient)] : []));
  const notified = approval.tool === 'respond_to_invitation' ? list([input.organizer]) : approval.tool === 'create_event' ? invited : list(input.notifying);
  const yours = list(input.attendees).filter((address) => !invited.some((item) => item.toLowerCase() === address.toLowerCase()));
  fields.push(['Mailed to', notified.length > 0 ? notified.join(', ') : 'Nobody']);
  if (approval.tool === 'create_event' && yours.length > 0) add('Also on it (you)', yours.join(', '));
  if (approval.tool === 'respond_to_invitation') add('Invitation from', text(input.organizer));
  return [{ kind: 'fields', label: 'Calendar change, exactly', fields }];
}
