import { weakest } from '../common/labels.js';
import type { Provenance } from '../common/messages.js';
import { revealInvisible } from '../common/visible-text.js';
import type { Job, JobStore } from '../storage/job-store.js';
import type { JobOutput } from './scheduler.js';
import { OUTSIDERS_EVENT, type CalendarSource, type WeatherSource } from './sources.js';
import { wallTime, instantOf } from './zoned-time.js';

export interface BriefingDeps {
  readonly jobs: Pick<JobStore, 'scheduled' | 'inboundSince'>;
  readonly calendar: CalendarSource;
  readonly weather: WeatherSource;
  readonly important: () => readonly string[];
  readonly maxTokens: () => number;
  /** Phrases the facts once (one model call); undefined leaves them as assembled. */
  readonly phrase?: (facts: string, provenance: Provenance, maxTokens: number, signal: AbortSignal) => Promise<string | undefined>;
  readonly now: () => number;
}

/** Roughly four characters a token: the facts handed to the model are cut to fit the budget. */
const CHARS_PER_TOKEN = 4;

/**
 * The morning briefing: today's events, reminders due today, unread messages from the people the owner marked
 * important and the weather, assembled from stores without the model; the model phrases the result once.
 */
export function briefingProducer(deps: BriefingDeps) {
  return async (job: Job, _dueAt: number, signal: AbortSignal): Promise<JobOutput | undefined> => {
    const now = deps.now();
    const { facts, provenance } = await assemble(job, now, deps, signal);
    const budget = deps.maxTokens();
    const cut = facts.length > budget * CHARS_PER_TOKEN ? `${facts.slice(0, budget * CHARS_PER_TOKEN)}…` : facts;
    let text = cut;
    if (deps.phrase) {
      try {
        text = (await deps.phrase(cut, provenance, budget, signal))?.trim() || cut;
      } catch {
        text = cut; // the facts still arrive when the model does not answer
      }
    }
    return { text, provenance };
  };
}

export async function assemble(job: Job, now: number, deps: BriefingDeps, signal: AbortSignal): Promise<{ facts: string; provenance: Provenance }> {
  const wall = wallTime(now, job.timeZone);
  const start = instantOf({ year: wall.year, month: wall.month, day: wall.day, hour: 0, minute: 0, second: 0 }, job.timeZone);
  const end = start + 24 * 3_600_000;
  const time = (instant: number) => new Intl.DateTimeFormat('en-GB', { timeZone: job.timeZone, hour: '2-digit', minute: '2-digit' }).format(new Date(instant));
  const lines: string[] = [`Good morning. Your briefing for ${new Intl.DateTimeFormat('en-GB', { timeZone: job.timeZone, dateStyle: 'full' }).format(new Date(now))}:`];
  const labels: Provenance[] = [];

  try {
    const events = await deps.calendar.eventsBetween(start, end, signal);
    lines.push(events.length === 0 ? '• No events today.' : `• Today: ${events.map((event) => `${time(event.start)} ${revealInvisible(event.title)}`).join('; ')}`);
    labels.push(...events.map((event) => event.provenance ?? OUTSIDERS_EVENT));
  } catch (error) {
    // The rest of the briefing still goes; the owner learns why the events are missing.
    lines.push(`• Your calendar could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }

  const reminders = deps.jobs.scheduled().filter((item) => item.kind === 'reminder' && (item.nextRunAt ?? Infinity) < end);
  if (reminders.length > 0) {
    lines.push(`• Reminders today: ${reminders.map((item) => `${time(item.nextRunAt as number)} ${String(item.payload.text ?? item.title)}`).join('; ')}`);
    labels.push(...reminders.map((item) => item.provenance));
  }

  const important = deps.important().map((who) => who.toLowerCase());
  if (important.length > 0) {
    const messages = deps.jobs
      .inboundSince(now - 24 * 3_600_000)
      .filter((message) => important.some((who) => message.sender.toLowerCase().includes(who) || (message.senderName?.toLowerCase().includes(who) ?? false)));
    if (messages.length > 0) {
      lines.push(`• From people you marked important: ${messages.slice(-5).map((message) => `${message.senderName ?? message.sender}: “${message.text.slice(0, 160)}”`).join('; ')}`);
      labels.push({ kind: 'untrusted', source: 'non_owner_sender', detail: 'messages in the briefing' });
    }
  }

  let weather: string | undefined;
  try {
    weather = await deps.weather.today(signal);
  } catch (error) {
    lines.push(`• The weather skill did not answer: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (weather) {
    lines.push(`• Weather: ${weather}`);
    labels.push({ kind: 'untrusted', source: 'tool_output', detail: 'skill weather' });
  }
  return { facts: lines.join('\n'), provenance: weakest(labels) };
}

/** The cron lines for a briefing configured as a time per weekday: days sharing a time share a line. */
export function briefingCrons(times: Readonly<Partial<Record<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun', string>>>): string[] {
  const days = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } as const;
  const byTime = new Map<string, number[]>();
  for (const [day, clock] of Object.entries(times)) {
    if (!clock) continue;
    byTime.set(clock, [...(byTime.get(clock) ?? []), days[day as keyof typeof days]]);
  }
  return [...byTime.entries()].map(([clock, list]) => {
    const [hour, minute] = clock.split(':').map(Number);
    return `${minute} ${hour} * * ${list.sort((a, b) => a - b).join(',')}`;
  });
}
