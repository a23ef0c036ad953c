import type { Provenance } from '../common/messages.js';
import type { Job, JobStore } from '../storage/job-store.js';
import type { JobOutput } from './scheduler.js';
import type { CalendarSource } from './sources.js';
import { wallTime } from './zoned-time.js';

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
  const from = Date.UTC(day.year, day.month - 1, day.day) - 14 * 3_600_000;
  const events = await deps.calendar.eventsBetween(from, from + 52 * 3_600_000, signal);
  const seen = JSON.stringify(events.map((event) => [event.title, event.start, event.end]));
  if (payload.seen === undefined || payload.seen === seen) return { seen };
  // Event titles come from whoever sent the invitation: the alert says so.
  const provenance: Provenance = { kind: 'untrusted', source: 'calendar_invite', detail: 'calendar' };
  return { seen, output: { text: `Alert — your calendar for ${payload.day} changed: ${events.map((event) => event.title).join(', ') || 'now empty'}`, provenance } };
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
