import { z } from 'zod';
import { isInvitation, type CalendarEvent, type CalendarResult } from '../common/calendar.js';
import { weakest } from '../common/labels.js';
import type { Provenance } from '../common/messages.js';
import { revealInvisible } from '../common/visible-text.js';
import { eventForModel, eventProvenance, freeSlots, isoInZone, isTimeZone, organizerWords } from './calendar-format.js';
import { defineTool } from './tool.js';

/**
 * The owner's calendars through the Mac's own store (every account added in Calendar). Reading is `read_private`;
 * a change is `modify_calendar`; each attendee an event adds is a send to that attendee (their calendar mails them),
 * decided like any other send. A change to an existing event names the event as the owner will see it on the card
 * (title, time, who gets mailed), and the tool refuses when the event is not that: what was approved is what runs.
 */

export interface NewEvent {
  readonly title: string;
  readonly start: string;
  readonly end: string;
  readonly timeZone: string;
  readonly allDay: boolean;
  readonly calendar?: string;
  readonly location?: string;
  readonly notes?: string;
  readonly attendees?: readonly string[];
}

/** What the calendar tools need; wired over the native helper in main/calendar/native/calendar-store.ts. */
export interface CalendarLike {
  listEvents(from: string, to: string, calendars: readonly string[] | undefined, signal: AbortSignal): Promise<CalendarResult<{ readonly events: readonly CalendarEvent[]; readonly truncated: boolean }>>;
  getEvent(id: string, signal: AbortSignal): Promise<CalendarResult<CalendarEvent>>;
  createEvent(event: NewEvent, signal: AbortSignal): Promise<CalendarResult<CalendarEvent>>;
  moveEvent(id: string, start: string, end: string, timeZone: string, signal: AbortSignal): Promise<CalendarResult<CalendarEvent>>;
  deleteEvent(id: string, signal: AbortSignal): Promise<CalendarResult<string>>;
  respond(id: string, response: 'accepted' | 'declined' | 'tentative', signal: AbortSignal): Promise<CalendarResult<CalendarEvent>>;
  /** The owner's time zone (IANA), for times the model did not place in one. */
  readonly timeZone: string;
}

const DAY = 86_400_000;
const MAX_LIST_DAYS = 366;
const MAX_FREE_DAYS = 62;
const MAX_EVENTS_SHOWN = 300;

const instant = z.iso.datetime({ offset: true }).describe('ISO 8601 date-time with its offset, e.g. 2026-12-03T09:00:00+01:00');
const zone = z.string().trim().min(1).max(100).refine(isTimeZone, 'is not a time zone; use an IANA name such as "Europe/London"').describe('IANA time zone, e.g. Europe/London');
const eventId = z.string().trim().min(1).max(500).describe('the id list_events gave');
const emails = z.array(z.email().max(320)).max(50);

const utc = (iso: string) => new Date(iso).toISOString();
const same = (a: string[], b: readonly string[]) => {
  const left = [...new Set(a.map((item) => item.trim().toLowerCase()))].sort();
  const right = [...new Set(b.map((item) => item.trim().toLowerCase()))].sort();
  return left.length === right.length && left.every((item, index) => item === right[index]);
};
const othersOf = (event: CalendarEvent) => event.attendees.filter((attendee) => !attendee.isCurrentUser).map((attendee) => attendee.email);

function failed(result: { message: string }): { content: string; isError: true } {
  return { content: result.message, isError: true };
}

function range(from: string, to: string, maxDays: number): string | undefined {
  const span = Date.parse(to) - Date.parse(from);
  if (!(span > 0)) return '"to" must be after "from".';
  if (span > maxDays * DAY) return `The range is longer than ${maxDays} days; ask for a shorter one.`;
  return undefined;
}

/**
 * The event as the call names it, or why it is not: the card showed the title, the time and who is mailed, so a
 * call whose words do not match the event changes nothing.
 */
function mismatch(event: CalendarEvent, expected: { title: string; start?: string; notifying?: readonly string[] | undefined }): string | undefined {
  if (expected.title !== event.title && expected.title !== revealInvisible(event.title)) {
    return `Nothing changed: the event ${event.id} is called "${revealInvisible(event.title)}", not "${expected.title}". List the events again.`;
  }
  if (expected.start !== undefined && Date.parse(expected.start) !== Date.parse(event.start)) {
    return `Nothing changed: "${revealInvisible(event.title)}" starts at ${isoInZone(event.start, event.timeZone)}, not ${expected.start}.`;
  }
  const others = othersOf(event);
  if (expected.notifying !== undefined && !same(others, expected.notifying)) {
    return `Nothing changed: this mails ${others.length > 0 ? others.join(', ') : 'nobody'}; call again with notifying set to exactly them.`;
  }
  if (expected.notifying === undefined && others.length > 0) {
    return `Nothing changed: this mails the attendees (${others.join(', ')}); call again with notifying set to exactly them.`;
  }
  return undefined;
}

export function createCalendarTools(calendar: CalendarLike) {
  const listEvents = defineTool({
    name: 'list_events',
    description:
      "List the owner's calendar events between two times, from every calendar (or only those named). Invitations from other people are marked: their text is the organiser's, not the owner's.",
    input: z.object({ from: instant, to: instant, calendars: z.array(z.string().trim().min(1).max(200)).max(20).optional().describe('calendar names; all when absent') }),
    effects: [{ kind: 'read_private', what: { template: 'Read your calendar from {from} to {to}[ ({calendars})]' } }],
    summary: 'Read your calendar from {from} to {to}[ ({calendars})]',
    output: { kind: 'per-result' },
    execute: async ({ from, to, calendars }, { signal }) => {
      const owner: Provenance = { kind: 'owner' };
      const problem = range(from, to, MAX_LIST_DAYS);
      if (problem) return { content: problem, isError: true, provenance: owner };
      const listed = await calendar.listEvents(utc(from), utc(to), calendars, signal);
      if (!listed.ok) return { ...failed(listed), provenance: owner };
      const events = listed.value.events;
      if (events.length === 0) return { content: 'No events in that range.', provenance: owner };
      const shown = events.slice(0, MAX_EVENTS_SHOWN);
      const more = events.length - shown.length + (listed.value.truncated ? 1 : 0);
      const content = JSON.stringify({
        timeZone: calendar.timeZone,
        events: shown.map((event) => eventForModel(event, calendar.timeZone)),
        ...(more > 0 ? { more: `${events.length - shown.length}${listed.value.truncated ? '+' : ''} more events; ask for a shorter range` } : {}),
      });
      return { content, provenance: weakest(shown.map(eventProvenance)) };
    },
  });

  const findFreeTime = defineTool({
    name: 'find_free_time',
    description: "Find free stretches of at least `durationMinutes` in the owner's calendars between two times, optionally only within working hours or on weekdays.",
    input: z.object({
      durationMinutes: z.int().min(5).max(1440),
      from: instant,
      to: instant,
      constraints: z
        .object({
          dayStart: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/).optional().describe('HH:MM, earliest start each day'),
          dayEnd: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/).optional().describe('HH:MM, latest end each day'),
          weekdaysOnly: z.boolean().optional(),
          timeZone: zone.optional(),
          calendars: z.array(z.string().trim().min(1).max(200)).max(20).optional(),
        })
        .optional(),
    }),
    effects: [{ kind: 'read_private', what: { template: 'Look for {durationMinutes} free minutes in your calendar from {from} to {to}' } }],
    summary: 'Look for {durationMinutes} free minutes in your calendar from {from} to {to}',
    output: { kind: 'trigger' },
    execute: async ({ durationMinutes, from, to, constraints }, { signal }) => {
      const problem = range(from, to, MAX_FREE_DAYS);
      if (problem) return { content: problem, isError: true };
      const listed = await calendar.listEvents(utc(from), utc(to), constraints?.calendars, signal);
      if (!listed.ok) return failed(listed);
      // Only times leave this tool: an invitation can block time, never put words in front of the model.
      const busy = listed.value.events
        .filter((event) => !event.allDay && event.myStatus !== 'declined')
        .map((event) => ({ start: Date.parse(event.start), end: Date.parse(event.end) }));
      const timeZone = constraints?.timeZone ?? calendar.timeZone;
      const slots = freeSlots(busy, Date.parse(from), Date.parse(to), durationMinutes * 60_000, {
        timeZone, dayStart: constraints?.dayStart, dayEnd: constraints?.dayEnd, weekdaysOnly: constraints?.weekdaysOnly,
      });
      if (slots.length === 0) return `No free stretch of ${durationMinutes} minutes in that range.`;
      return JSON.stringify({ timeZone, free: slots.map((slot) => ({ start: isoInZone(slot.start, timeZone), end: isoInZone(slot.end, timeZone) })) });
    },
  });

  const createEvent = defineTool({
    name: 'create_event',
    description:
      "Add an event to the owner's calendar. Each attendee gets an invitation mailed by the owner's calendar account, so every attendee who is not the owner is a recipient the owner may be asked about.",
    input: z.object({
      title: z.string().trim().min(1).max(500),
      start: instant,
      end: instant,
      timeZone: zone,
      allDay: z.boolean().optional(),
      calendar: z.string().trim().min(1).max(200).optional().describe('calendar name; the default calendar when absent'),
      location: z.string().max(1000).optional(),
      notes: z.string().max(20_000).optional(),
      attendees: emails.optional().describe('email addresses to invite'),
    }),
    effects: [
      { kind: 'modify_calendar', what: { template: 'Create "{title}" from {start} to {end} ({timeZone})[ in the calendar {calendar}][ at {location}][ with {attendees}][. Notes: {notes}]' } },
      {
        kind: 'send_message',
        channel: { template: 'email' },
        recipient: { eachOf: 'attendees' },
        text: { template: 'Invitation to "{title}" from {start} to {end} ({timeZone})[ at {location}][. Notes: {notes}]' },
      },
    ],
    summary: ['Add "{title}" to your calendar, inviting {attendees}', 'Add "{title}" to your calendar'],
    output: { kind: 'trigger' },
    execute: async (input, { signal }) => {
      if (Date.parse(input.end) <= Date.parse(input.start)) return { content: 'Not created: the end must be after the start.', isError: true };
      const created = await calendar.createEvent(
        {
          title: input.title, start: utc(input.start), end: utc(input.end), timeZone: input.timeZone, allDay: input.allDay ?? false,
          ...(input.calendar ? { calendar: input.calendar } : {}),
          ...(input.location ? { location: input.location } : {}),
          ...(input.notes ? { notes: input.notes } : {}),
          ...(input.attendees && input.attendees.length > 0 ? { attendees: input.attendees } : {}),
        },
        signal,
      );
      if (!created.ok) return failed(created);
      const event = created.value;
      const invited = othersOf(event);
      return `Created "${event.title}" (id ${event.id}) in ${event.calendar}, ${isoInZone(event.start, input.timeZone)} to ${isoInZone(event.end, input.timeZone)}${invited.length > 0 ? `; invitations go to ${invited.join(', ')}` : ''}.`;
    },
  });

  const moveEvent = defineTool({
    name: 'move_event',
    description:
      "Move one of the owner's events (one occurrence of a repeating one) to a new time. Give its current title as list_events showed it, and in `notifying` exactly its attendees other than the owner: they are mailed the change.",
    input: z.object({ eventId, title: z.string().min(1).max(500), start: instant, end: instant, timeZone: zone, notifying: emails.optional() }),
    effects: [{ kind: 'modify_calendar', what: { template: 'Move "{title}" to {start}–{end} ({timeZone})[; the change is mailed to {notifying}]' } }],
    summary: 'Move "{title}" to {start} ({timeZone})',
    output: { kind: 'trigger' },
    execute: async ({ eventId: id, title, start, end, timeZone, notifying }, { signal }) => {
      if (Date.parse(end) <= Date.parse(start)) return { content: 'Not moved: the end must be after the start.', isError: true };
      const found = await calendar.getEvent(id, signal);
      if (!found.ok) return failed(found);
      if (isInvitation(found.value)) return { content: `Not moved: this is an invitation from ${organizerWords(found.value)}; only they can move it. Answer it with respond_to_invitation instead.`, isError: true };
      const wrong = mismatch(found.value, { title, notifying });
      if (wrong) return { content: wrong, isError: true };
      const moved = await calendar.moveEvent(id, utc(start), utc(end), timeZone, signal);
      if (!moved.ok) return failed(moved);
      return `Moved "${moved.value.title}" to ${isoInZone(moved.value.start, timeZone)}–${isoInZone(moved.value.end, timeZone)}.`;
    },
  });

  const deleteEvent = defineTool({
    name: 'delete_event',
    description:
      "Delete one of the owner's events (one occurrence of a repeating one). Give its title and start as list_events showed them, and in `notifying` exactly its attendees other than the owner: they are mailed a cancellation.",
    input: z.object({ eventId, title: z.string().min(1).max(500), start: instant, notifying: emails.optional() }),
    effects: [
      { kind: 'modify_calendar', what: { template: 'Delete "{title}" at {start}[; a cancellation is mailed to {notifying}]' } },
      { kind: 'delete', target: { template: 'the calendar event "{title}" at {start}' } },
    ],
    summary: 'Delete "{title}" at {start} from your calendar',
    output: { kind: 'trigger' },
    execute: async ({ eventId: id, title, start, notifying }, { signal }) => {
      const found = await calendar.getEvent(id, signal);
      if (!found.ok) return failed(found);
      const wrong = mismatch(found.value, { title, start, notifying });
      if (wrong) return { content: wrong, isError: true };
      const deleted = await calendar.deleteEvent(id, signal);
      if (!deleted.ok) return failed(deleted);
      return `Deleted "${found.value.title}" from ${found.value.calendar}.`;
    },
  });

  const respondToInvitation = defineTool({
    name: 'respond_to_invitation',
    description: 'Accept, decline or tentatively accept an invitation in the owner\'s calendar; the answer is mailed to its organiser. Give its title and organiser email as list_events showed them.',
    input: z.object({ eventId, response: z.enum(['accepted', 'declined', 'tentative']), title: z.string().min(1).max(500), organizer: z.email().max(320) }),
    effects: [{ kind: 'modify_calendar', what: { template: 'Answer "{response}" to the invitation "{title}" from {organizer}' } }],
    summary: 'Answer "{response}" to "{title}" from {organizer}',
    output: { kind: 'trigger' },
    execute: async ({ eventId: id, response, title, organizer }, { signal }) => {
      const found = await calendar.getEvent(id, signal);
      if (!found.ok) return failed(found);
      const event = found.value;
      if (!isInvitation(event)) return { content: 'Not answered: that event is not an invitation from someone else.', isError: true };
      if (event.organizer?.email.toLowerCase() !== organizer.toLowerCase()) {
        return { content: `Not answered: the invitation is from ${organizerWords(event)}, not ${organizer}.`, isError: true };
      }
      const wrong = mismatch({ ...event, attendees: [] }, { title });
      if (wrong) return { content: wrong, isError: true };
      const answered = await calendar.respond(id, response, signal);
      if (!answered.ok) return failed(answered);
      return `Answered "${response}" to "${revealInvisible(event.title)}".`;
    },
  });

  return [listEvents, findFreeTime, createEvent, moveEvent, deleteEvent, respondToInvitation] as const;
}
