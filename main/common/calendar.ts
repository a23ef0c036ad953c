/**
 * Calendar and Contacts as the core, the tools and the approval card see them: the shapes of the native helper's
 * answers (main/calendar/native/protocol.schema.json pins them) and of its failures.
 */

export type ParticipantStatus = 'unknown' | 'pending' | 'accepted' | 'declined' | 'tentative' | 'delegated' | 'completed' | 'in-process';

export interface CalendarParticipant {
  readonly name?: string;
  readonly email: string;
  readonly isCurrentUser: boolean;
  readonly status: ParticipantStatus;
}

/** One event occurrence; `start` and `end` are UTC instants (ISO 8601 with Z), `timeZone` an IANA name or "floating". */
export interface CalendarEvent {
  readonly id: string;
  readonly calendar: string;
  readonly calendarId: string;
  readonly title: string;
  readonly start: string;
  readonly end: string;
  readonly allDay: boolean;
  readonly timeZone: string;
  readonly location?: string;
  readonly notes?: string;
  /** Set for meetings; an organiser who is not the owner makes the event an invitation. */
  readonly organizer?: CalendarParticipant;
  readonly attendees: readonly CalendarParticipant[];
  readonly recurring: boolean;
  readonly writable: boolean;
  /** In a subscribed calendar: a feed someone else publishes. */
  readonly subscribed?: boolean;
  /** In a calendar the owner can only read that is not a subscription: someone else's, shared with them. */
  readonly shared?: boolean;
  readonly myStatus?: ParticipantStatus;
}

export interface CalendarInfo {
  readonly id: string;
  readonly title: string;
  readonly writable: boolean;
  readonly account: string;
  readonly isDefault?: boolean;
}

export interface Labelled {
  readonly label: string;
  readonly value: string;
}

/** A card of the owner's address book. `shared`: it lives in an account other than the owner's own default one. */
export interface ContactCard {
  readonly id: string;
  readonly name: string;
  readonly nickname?: string;
  readonly organization?: string;
  readonly phones: readonly Labelled[];
  readonly emails: readonly Labelled[];
  /** "1990-05-04", or "--05-04" without a year. */
  readonly birthday?: string;
  readonly relations: readonly Labelled[];
  readonly note?: string;
  readonly shared: boolean;
}

export type CalendarEntity = 'events' | 'contacts';

/** Why a calendar or contacts call did nothing; `needs-mac` off macOS, `no-access` when the owner has not allowed it. */
export type CalendarFailureCode = 'needs-mac' | 'no-access' | 'not-found' | 'bad-request' | 'unsupported' | 'failed';

export type CalendarResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: CalendarFailureCode; readonly message: string; readonly entity?: CalendarEntity };

/** An event is an invitation when someone other than the owner organised it. */
export function isInvitation(event: Pick<CalendarEvent, 'organizer'>): boolean {
  return event.organizer !== undefined && !event.organizer.isCurrentUser;
}
