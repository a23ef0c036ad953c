import { z } from 'zod';
import { defineTool } from './tool.js';

export interface CurrentTimeOptions {
  readonly now?: () => Date;
  /** The zone used when the model names none; defaults to the system's. */
  readonly defaultTimeZone?: () => string;
}

const input = z.object({
  timezone: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe('IANA time zone name such as "Europe/Berlin"; omit for the owner\'s own time zone.'),
});

/** `current_time`: the time now as ISO 8601 with the zone's offset, plus a human-readable string. No effects. */
export function createCurrentTimeTool(options: CurrentTimeOptions = {}) {
  const now = options.now ?? (() => new Date());
  const defaultTimeZone = options.defaultTimeZone ?? (() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  return defineTool({
    name: 'current_time',
    description: "The current date and time, in the owner's time zone or a given IANA time zone.",
    input,
    effects: [],
    summary: 'Read the current time[ in {timezone}]',
    output: { kind: 'trigger' },
    execute: ({ timezone }) => {
      const zone = timezone ?? defaultTimeZone();
      const date = now();
      return JSON.stringify({
        iso: isoInZone(date, zone),
        human: new Intl.DateTimeFormat('en-US', { timeZone: zone, dateStyle: 'full', timeStyle: 'long' }).format(date),
        timezone: zone,
      });
    },
  });
}

export const currentTimeTool = createCurrentTimeTool();

/** Throws an Error naming the zone when it is not one Intl knows. */
function fieldsInZone(date: Date, zone: string): Record<string, number> {
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    throw new Error(`"${zone}" is not a known IANA time zone; use a name like "Europe/Berlin" or "America/New_York".`);
  }
  const fields: Record<string, number> = {};
  for (const part of formatter.formatToParts(date)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return fields;
}

function isoInZone(date: Date, zone: string): string {
  const f = fieldsInZone(date, zone);
  const year = f.year ?? 0;
  const month = f.month ?? 1;
  const day = f.day ?? 1;
  const hour = f.hour ?? 0;
  const minute = f.minute ?? 0;
  const second = f.second ?? 0;
  const wallAsUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  const offsetMinutes = Math.round((wallAsUtc - Math.floor(date.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return (
    `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}
