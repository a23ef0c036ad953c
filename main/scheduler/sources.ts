/**
 * Seams for what other parts of Pavise will provide: the calendar (issue 13), mail (14) and skills such as the
 * weather (12). Each answers with nothing until its provider is wired in compose.ts.
 */

export interface CalendarEventLike {
  readonly title: string;
  readonly start: number;
  readonly end: number;
  readonly location?: string;
}

export interface CalendarSource {
  /** The owner's events overlapping [from, to). */
  eventsBetween(from: number, to: number, signal: AbortSignal): Promise<readonly CalendarEventLike[]>;
}

export interface WeatherSource {
  /** One line for today ("Sunny, 18 °C"), or undefined when no weather skill is installed. */
  today(signal: AbortSignal): Promise<string | undefined>;
}

export const NO_CALENDAR: CalendarSource = { eventsBetween: async () => [] };
export const NO_WEATHER: WeatherSource = { today: async () => undefined };
