import type { CalendarEvent, CalendarResult } from '../../common/calendar.js';
import type { CalendarLike, NewEvent } from '../../tools/calendar.js';
import type { ContactBook, ContactsLike } from '../../tools/contacts.js';
import type { NativeCalendar } from './helper-client.js';

/** How long a read of the address book serves name resolution before the next send reads it again. */
const BOOK_TTL_MS = 60_000;

function map<T, U>(result: CalendarResult<T>, pick: (value: T) => U): CalendarResult<U> {
  return result.ok ? { ok: true, value: pick(result.value) } : result;
}

/** The calendar tools' view of the native helper. */
export function nativeCalendarStore(native: NativeCalendar, timeZone: string): CalendarLike {
  return {
    timeZone,
    listEvents: (from, to, calendars, signal) => native.call('listEvents', { from, to, ...(calendars && calendars.length > 0 ? { calendars } : {}) }, signal),
    getEvent: async (id, signal) => map(await native.call('getEvent', { id }, signal), (value): CalendarEvent => value.event),
    createEvent: async (event: NewEvent, signal) => map(await native.call('createEvent', event, signal), (value) => value.event),
    moveEvent: async (id, start, end, zone, signal) => map(await native.call('moveEvent', { id, start, end, timeZone: zone }, signal), (value) => value.event),
    deleteEvent: async (id, signal) => map(await native.call('deleteEvent', { id }, signal), (value) => value.deleted),
    respond: async (id, response, signal) => map(await native.call('respondToInvitation', { id, response }, signal), (value) => value.event),
  };
}

/** The address book through the native helper, with the last read kept for the host's name resolution. */
export class NativeContacts implements ContactsLike {
  #book: ContactBook | undefined;
  #readAt = 0;
  #reading: Promise<CalendarResult<ContactBook>> | undefined;

  constructor(
    private readonly native: NativeCalendar,
    readonly region: string,
    private readonly now: () => number = Date.now,
  ) {}

  cached(): ContactBook | undefined {
    return this.#book;
  }

  book(signal?: AbortSignal): Promise<CalendarResult<ContactBook>> {
    this.#reading ??= this.native
      .call('listContacts', {}, signal)
      .then((result) => {
        if (result.ok) {
          this.#book = { contacts: result.value.contacts, me: result.value.me };
          this.#readAt = this.now();
        }
        return map(result, (value): ContactBook => ({ contacts: value.contacts, me: value.me }));
      })
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }

  /** Reads the book again when the last read is older than a minute (or there was none); never throws. */
  async refresh(signal?: AbortSignal): Promise<void> {
    if (!this.native.available || (this.#book && this.now() - this.#readAt < BOOK_TTL_MS)) return;
    await this.book(signal);
  }
}
