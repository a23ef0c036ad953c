import { weakest } from '../common/labels.js';
import type { Provenance } from '../common/messages.js';
import { revealInvisible } from '../common/visible-text.js';
import type { Job, JobStore } from '../storage/job-store.js';
import type { JobOutput } from './scheduler.js';
import { OUTSIDERS_EVENT, type CalendarEventLike, type CalendarSource } from './sources.js';
import { instantOf, wallTime } from './zoned-time.js';

/** A standing rule in structured form: what the owner said ("tell me when Sam writes") as a cheap precondition. */
export type AlertRule =
  | { readonly rule: 'message_from'; readonly who: string }
  | { readonly rule: 'calendar_change'; readonly day: 'today' | 'tomorrow' };

export interface AlertState {
  readonly lastCheckedAt?: number;
  readonly lastFiredAt?: number;
  /** The owner's calendar day (YYYY-MM-DD) `firedToday` counts. */
  readonly firedOn?: string;
  readonly firedToday?: number;
  /** A fingerprint of the calendar day last seen. */
  readonly seen?: string;
}

export type AlertPayload = AlertRule & AlertState & { readonly cooldownMinutes: number; readonly dailyCap: number };

export const ALERT_CHECK_MINUTES = 5;

export interface AlertDeps {
  readonly jobs: Pick<JobStore, 'inboundSince' | 'updatePayload'>;
  readonly calendar: CalendarSource;
  readonly now: () => number;
}

/**
 * Runs an alert's precondition without a model: a query over stored messages, or a comparison of the calendar
 * day with what was seen last time. Only a finding within the cooldown and the daily cap becomes a message.
 */
export function alertProducer(deps: AlertDeps) {
  return async (job: Job, _dueAt: number, signal: AbortSignal): Promise<JobOutput | undefined> => {
    const payload = job.payload as unknown as AlertPayload;
    const now = deps.now();
    const found = await check(payload, job, now, deps, signal);
    const state: AlertState = { ...pickState(payload), lastCheckedAt: now, ...(found?.seen === undefined ? {} : { seen: found.seen }) };
    const today = dayKey(now, job.timeZone);
    const firedToday = payload.firedOn === today ? (payload.firedToday ?? 0) : 0;
    const cooling = payload.lastFiredAt !== undefined && now - payload.lastFiredAt < payload.cooldownMinutes * 60_000;
    if (!found?.output || cooling || firedToday >= payload.dailyCap) {
      deps.jobs.updatePayload(job.id, { ...payload, ...state });
      return undefined;
    }
    deps.jobs.updatePayload(job.id, { ...payload, ...state, lastFiredAt: now, firedOn: today, firedToday: firedToday + 1 });
    return found.output;
  };
}

async function check(
  payload: AlertPayload,
  job: Job,
  now: number,
  deps: AlertDeps,
  signal: AbortSignal,
): Promise<{ output?: JobOutput; seen?: string } | undefined> {
  if (payload.rule === 'message_from') {
    const since = payload.lastCheckedAt ?? job.createdAt;
    const who = payload.who.toLowerCase();
    const matches = deps.jobs
      .inboundSince(since)
      .filter((message) => message.sender.toLowerCase().includes(who) || (message.senderName?.toLowerCase().includes(who) ?? false));
    const first = matches[0];
    if (!first) return undefined;
    const name = first.senderName ?? first.sender;
    const more = matches.length > 1 ? ` (+${matches.length - 1} more)` : '';
    const provenance: Provenance = { kind: 'untrusted', source: 'non_owner_sender', detail: `${first.channel} ${name}` };
    return { output: { text: `Alert — ${name} wrote on ${first.channel}${more}: “${first.text.slice(0, 280)}”`, provenance } };
  }
  const day = wallTime(now + (payload.day === 'tomorrow' ? 86_400_000 : 0), job.timeZone);
  const from = instantOf({ year: day.year, month: day.month, day: day.day, hour: 0, minute: 0, second: 0 }, job.timeZone);
  const next = wallTime(from + 36 * 3_600_000, job.timeZone);
  const to = instantOf({ year: next.year, month: next.month, day: next.day, hour: 0, minute: 0, second: 0 }, job.timeZone);
  const events = await deps.calendar.eventsBetween(from, to, signal);
  const seen = JSON.stringify(events.map((event): SeenEvent => [event.title, event.start, event.end]));
  if (payload.seen === undefined || payload.seen === seen) return { seen };
  const changes = describeChanges(parseSeen(payload.seen), events, job.timeZone);
  // The words come from whoever wrote the events that changed: an invitation's title is its organiser's.
  // A removed event's title is no longer there to ask whose it was: it counts as an outsider's.
  const changed = events.filter((event) => changes.titles.has(event.title));
  const provenance = weakest([...changed.map((event) => event.provenance ?? OUTSIDERS_EVENT), ...(changes.anyGone ? [OUTSIDERS_EVENT] : [])]);
  return { seen, output: { text: `Alert — your calendar for ${payload.day} changed: ${changes.lines.join('; ')}`, provenance } };
}

type SeenEvent = [title: string, start: number, end: number];

function parseSeen(seen: string): SeenEvent[] {
  try {
    const parsed: unknown = JSON.parse(seen);
    return Array.isArray(parsed) ? (parsed as SeenEvent[]) : [];
  } catch {
    return [];
  }
}

/** What differs between the day as last seen and now: an event moved (same title, other time), added or removed. */
function describeChanges(before: readonly SeenEvent[], now: readonly CalendarEventLike[], zone: string): { lines: string[]; titles: Set<string>; anyGone: boolean } {
  const time = (instant: number) => new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit' }).format(new Date(instant));
  const same = (a: SeenEvent, b: CalendarEventLike) => a[0] === b.title && a[1] === b.start && a[2] === b.end;
  const gone = before.filter((old) => !now.some((event) => same(old, event)));
  const added = now.filter((event) => !before.some((old) => same(old, event)));
  const lines: string[] = [];
  const titles = new Set<string>();
  for (const event of added) {
    const was = gone.findIndex((old) => old[0] === event.title);
    const title = `“${revealInvisible(event.title)}”`;
    titles.add(event.title);
    if (was >= 0) {
      const [old] = gone.splice(was, 1) as [SeenEvent];
      lines.push(`${title} moved from ${time(old[1])} to ${time(event.start)}`);
    } else lines.push(`${title} added at ${time(event.start)}`);
  }
  for (const old of gone) lines.push(`“${revealInvisible(old[0])}” at ${time(old[1])} is gone`);
  return { lines, titles, anyGone: gone.length > 0 };
}

function pickState(payload: AlertPayload): AlertState {
  const { lastCheckedAt, lastFiredAt, firedOn, firedToday, seen } = payload;
  return { ...(lastCheckedAt === undefined ? {} : { lastCheckedAt }), ...(lastFiredAt === undefined ? {} : { lastFiredAt }), ...(firedOn === undefined ? {} : { firedOn }), ...(firedToday === undefined ? {} : { firedToday }), ...(seen === undefined ? {} : { seen }) };
}

export function dayKey(instant: number, zone: string): string {
  const wall = wallTime(instant, zone);
  return `${wall.year}-${String(wall.month).padStart(2, '0')}-${String(wall.day).padStart(2, '0')}`;
}

export function describeRule(rule: AlertRule): string {
  return rule.rule === 'message_from' ? `when ${rule.who} writes` : `if a meeting ${rule.day} changes`;
}
