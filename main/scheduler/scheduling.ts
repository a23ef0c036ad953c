import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../common/config-schema.js';
import type { Provenance } from '../common/messages.js';
import type { ChannelStore } from '../storage/channel-store.js';
import type { DeliveryTarget, Job, JobStore } from '../storage/job-store.js';
import type { ScheduledItem, SchedulingLike } from '../tools/schedule.js';
import { ALERT_CHECK_MINUTES, describeRule, type AlertRule } from './alerts.js';
import { describeInstant, parseWhen } from './times.js';

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
            : 'done',
    nextRunAt: job.nextRunAt,
    status: job.status,
  });
  const addReminder = async (text: string, when: string, provenance: Provenance, sessionId: string | undefined, deliverTo: DeliveryTarget | undefined) => {
    const parsed = await parseWhen(when, now(), zone);
    const job = deps.jobs.add(
      {
        kind: 'reminder',
        title: text.length > 80 ? `${text.slice(0, 79)}…` : text,
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
    list: () => deps.jobs.list().map(item),
    remove: (id) => {
      const removed = deps.jobs.setStatus(id, 'removed', undefined, now());
      if (removed) changed();
      return removed;
    },
  };
}
