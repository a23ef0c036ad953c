import type { Provenance } from '../common/messages.js';

/**
 * Seams for what other parts of Pavise provide: the calendar (the Mac's store and .ics files, calendar-source.ts)
 * and the weather skill (weather-source.ts). compose.ts wires them; each answers with nothing where there is none.
 */

export interface CalendarEventLike {
  readonly title: string;
  readonly start: number;
  readonly end: number;
  readonly location?: string;
  /** Whose words the title is; an event without one counts as an outsider's (an invitation). */
  readonly provenance?: Provenance;
}

export interface CalendarSource {
  /** The owner's events overlapping [from, to). */
  eventsBetween(from: number, to: number, signal: AbortSignal): Promise<readonly CalendarEventLike[]>;
}

export interface WeatherSource {
  /** One line for today ("Sunny, 18 °C"), or undefined when no weather skill is installed. */
  today(signal: AbortSignal): Promise<string | undefined>;
}

/** An event whose source did not say whose it is counts as an invitation: its title is someone else's words. */
export const OUTSIDERS_EVENT: Provenance = { kind: 'untrusted', source: 'calendar_invite', detail: 'calendar' };

export const NO_CALENDAR: CalendarSource = { eventsBetween: async () => [] };
export const NO_WEATHER: WeatherSource = { today: async () => undefined };

/** What compose.ts gives the scheduler to read. */
export interface ScheduleSources {
  readonly calendar: CalendarSource;
  readonly weather: WeatherSource;
}
