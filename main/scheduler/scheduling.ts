import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../common/config-schema.js';
import type { Provenance } from '../common/messages.js';
import type { ChannelStore } from '../storage/channel-store.js';
import type { DeliveryTarget, Job, JobStore } from '../storage/job-store.js';
import type { ScheduledItem, SchedulingLike } from '../tools/schedule.js';
import { ALERT_CHECK_MINUTES, describeRule, type AlertRule } from './alerts.js';
import { describeInstant, nextCronRun, parseWhen } from './times.js';

/** The file a change to the schedule touches, so a scheduler in another process (the gateway) looks again. */
export const SCHEDULE_CHANGED_FILE = 'schedule.changed';

export interface SchedulingDeps {
  readonly config: Config;
  readonly home: string;
  readonly jobs: JobStore;
  readonly channels: Pick<ChannelStore, 'conversations'>;
  readonly now?: () => number;
}

export interface Scheduling extends SchedulingLike {
  /** A reminder from the CLI or the popover: the owner's own words, delivered to their preferred chat. */
  remindOwner(text: string, when: string): Promise<ScheduledItem>;
  /** What a time in words means, as `remindOwner` would read it; throws a WhenError that says what to write. */
  preview(when: string): Promise<{ readonly when: string; readonly firstRunAt: number; readonly recurring: boolean }>;
  /**
   * A reminder's new words or time (settings, `pavise schedule edit`). New words are the owner's own, so the reminder
   * becomes theirs; a new time alone keeps whose it was. Undefined when there is no such reminder.
   */
  editReminder(id: number, change: { readonly text?: string; readonly when?: string }): Promise<ScheduledItem | undefined>;
  /** Pauses a job (it keeps its schedule and fires nothing) or resumes it from now. Undefined when there is no such job. */
  setPaused(id: number, paused: boolean): Promise<ScheduledItem | undefined>;
  /** Called after every change in this process (the running scheduler re-arms its timer). */
  onChange(listener: () => void): void;
  item(job: Job): ScheduledItem;
}

export function ownerTimeZone(config: Config): string {
  return config.schedule.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * Creates and changes jobs for the tools, the CLI and the app. A job made in a session keeps the least trusted label
 * of what that session had read, and is delivered to the chat it was asked in.
 */
export function createScheduling(deps: SchedulingDeps): Scheduling {
  const now = deps.now ?? Date.now;
  const zone = ownerTimeZone(deps.config);
  const listeners: (() => void)[] = [];
  const changed = () => {
    for (const listener of listeners) listener();
    try {
      writeFileSync(join(deps.home, SCHEDULE_CHANGED_FILE), String(now()), { mode: 0o600 });
    } catch {
      // The in-process scheduler was told; another process finds the change at its next wake-up.
    }
  };
  const askedIn = (sessionId: string): DeliveryTarget | undefined => {
    const conversation = deps.channels.conversations(10_000).find((item) => item.sessionId === sessionId && !item.isGroup);
    return conversation && { channel: conversation.channel, conversationId: conversation.conversationId };
  };
  const item = (job: Job): ScheduledItem => ({
    id: job.id,
    kind: job.kind,
    title: job.title,
    when:
      job.schedule.type === 'cron'
        ? `${job.schedule.description ?? job.schedule.expression}${job.nextRunAt ? ` (next ${describeInstant(job.nextRunAt, job.timeZone)})` : ''}`
        : job.schedule.type === 'every'
          ? `checked every ${job.schedule.everyMinutes} min`
          : job.nextRunAt
            ? describeInstant(job.nextRunAt, job.timeZone)
            : job.status === 'paused'
              ? // A paused reminder has no next run, but it is not done: resuming it brings back this time.
                describeInstant(job.schedule.at, job.timeZone)
              : 'done',
    nextRunAt: job.nextRunAt,
    status: job.status,
    provenance: job.provenance,
  });
  const addReminder = async (text: string, when: string, provenance: Provenance, sessionId: string | undefined, deliverTo: DeliveryTarget | undefined) => {
    const parsed = await parseWhen(when, now(), zone);
    const job = deps.jobs.add(
      {
        kind: 'reminder',
        title: titleOf(text),
        payload: { text },
        schedule: parsed.schedule,
        timeZone: zone,
        nextRunAt: parsed.firstRunAt,
        // A reminder missed while Pavise was off still matters: it fires once on return.
        missedPolicy: 'once',
        urgent: true,
        provenance,
        deliverTo,
        sessionId,
      },
      now(),
    );
    changed();
    return item(job);
  };
  return {
    item,
    onChange: (listener) => listeners.push(listener),
    remind: (text, when, sessionId) => addReminder(text, when, deps.jobs.sessionLabel(sessionId), sessionId, askedIn(sessionId)),
    remindOwner: (text, when) => addReminder(text, when, { kind: 'owner' }, undefined, undefined),
    addAlert: (rule: AlertRule, limits, sessionId) => {
      const job = deps.jobs.add(
        {
          kind: 'alert',
          title: `Tell you ${describeRule(rule)}`,
          payload: { ...rule, cooldownMinutes: limits.cooldownMinutes ?? 60, dailyCap: limits.dailyCap ?? 5, lastCheckedAt: now() },
          schedule: { type: 'every', everyMinutes: ALERT_CHECK_MINUTES },
          timeZone: zone,
          nextRunAt: now() + ALERT_CHECK_MINUTES * 60_000,
          // The next check covers what a missed one would have seen.
          missedPolicy: 'skip',
          urgent: false,
          provenance: deps.jobs.sessionLabel(sessionId),
          deliverTo: askedIn(sessionId),
          sessionId,
        },
        now(),
      );
      changed();
      return item(job);
    },
    snooze: (minutes, sessionId, id) => {
      const job = id === undefined ? deps.jobs.lastDeliveredReminder(askedIn(sessionId)) : deps.jobs.get(id);
      if (!job || job.kind !== 'reminder' || job.status === 'removed') return undefined;
      const at = now() + minutes * 60_000;
      if (job.schedule.type === 'once') deps.jobs.snooze(job.id, at, now());
      else {
        // A recurring reminder keeps its schedule; the snooze is a one-shot copy with its words and label.
        const copy = deps.jobs.add({ ...job, schedule: { type: 'once', at }, nextRunAt: at, deliverTo: job.deliverTo, sessionId: job.sessionId }, now());
        changed();
        return item(copy);
      }
      changed();
      return item(deps.jobs.get(job.id) as Job);
    },
    preview: async (when) => {
      const parsed = await parseWhen(when, now(), zone);
      return { when: parsed.description, firstRunAt: parsed.firstRunAt, recurring: parsed.schedule.type !== 'once' };
    },
    editReminder: async (id, change) => {
      const job = deps.jobs.get(id);
      if (!job || job.kind !== 'reminder' || (job.status !== 'active' && job.status !== 'paused')) return undefined;
      const parsed = change.when === undefined ? undefined : await parseWhen(change.when, now(), zone);
      const text = change.text?.trim();
      deps.jobs.edit(
        id,
        {
          ...(text ? { title: titleOf(text), payload: { ...job.payload, text }, provenance: { kind: 'owner' } } : {}),
          ...(parsed ? { schedule: parsed.schedule, nextRunAt: parsed.firstRunAt } : {}),
        },
        now(),
      );
      changed();
      return item(deps.jobs.get(id) as Job);
    },
    setPaused: async (id, paused) => {
      const job = deps.jobs.get(id);
      if (!job || (job.status !== 'active' && job.status !== 'paused')) return undefined;
      if (paused) deps.jobs.setStatus(id, 'paused', undefined, now());
      else deps.jobs.setStatus(id, 'active', (await resumeAt(job, now())) ?? now(), now());
      changed();
      return item(deps.jobs.get(id) as Job);
    },
    list: () => deps.jobs.list().map(item),
    remove: (id) => {
      const removed = deps.jobs.setStatus(id, 'removed', undefined, now());
      if (removed) changed();
      return removed;
    },
  };
}

function titleOf(text: string): string {
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** When a resumed job is next due: its own time if one-shot (now, if that passed while paused), else its next from now. */
async function resumeAt(job: Job, now: number): Promise<number | undefined> {
  if (job.schedule.type === 'once') return Math.max(job.schedule.at, now);
  if (job.schedule.type === 'every') return now + job.schedule.everyMinutes * 60_000;
  return nextCronRun(job.schedule.expression, job.timeZone, now);
}
