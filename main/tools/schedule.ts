import { z } from 'zod';
import { weakest } from '../common/labels.js';
import type { Provenance } from '../common/messages.js';
import { defineTool } from './tool.js';

/** A job as the schedule tools show it. */
export interface ScheduledItem {
  readonly id: number;
  readonly kind: 'reminder' | 'briefing' | 'alert' | 'turn';
  readonly title: string;
  readonly when: string;
  readonly nextRunAt: number | undefined;
  readonly status: string;
  /** Whose words the job carries (a reminder set from a forward is the forward's author's). */
  readonly provenance?: Provenance;
}

/** What the schedule tools need; implemented by main/scheduler/scheduling.ts and injected in compose.ts. */
export interface SchedulingLike {
  /** Throws an Error saying what to write instead when `when` is not a time in the future. */
  remind(text: string, when: string, sessionId: string): Promise<ScheduledItem>;
  addAlert(rule: { rule: 'message_from'; who: string } | { rule: 'calendar_change'; day: 'today' | 'tomorrow' }, limits: { cooldownMinutes?: number; dailyCap?: number }, sessionId: string): ScheduledItem;
  snooze(minutes: number, sessionId: string, id?: number): ScheduledItem | undefined;
  list(): ScheduledItem[];
  remove(id: number): boolean;
}

const remindInput = z.object({
  text: z.string().trim().min(1).max(1_000).describe("The reminder in the owner's own words; it is delivered exactly so."),
  when: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .describe('When, as the owner said it: "in 20 minutes", "tomorrow at 9", "friday 17:30", "weekdays at 7:30", "every monday at 9".'),
});

const alertInput = z.object({
  rule: z.enum(['message_from', 'calendar_change']).describe('message_from: someone writes; calendar_change: a day of the calendar changes'),
  who: z.string().trim().min(1).max(200).optional().describe('For message_from: a name, phone number, email or Telegram id'),
  day: z.enum(['today', 'tomorrow']).optional().describe('For calendar_change'),
  cooldownMinutes: z.int().min(0).max(24 * 60).optional().describe('Quiet time after an alert; default 60'),
  dailyCap: z.int().min(1).max(50).optional().describe('Most alerts a day; default 5'),
});

/** `remind`, `add_alert`, `snooze_reminder`, `list_schedule`, `cancel_scheduled`. Every job is delivered only to the owner. */
export function createScheduleTools(scheduling: SchedulingLike) {
  const remind = defineTool({
    name: 'remind',
    description: 'Remind the owner of something at a time (one-shot or recurring). Delivered to the owner only, in their words.',
    input: remindInput,
    effects: [{ kind: 'write_local', what: { template: 'Remind you {when}: "{text}"' } }],
    summary: 'Remind you {when}: "{text}"',
    output: { kind: 'trigger' },
    execute: async ({ text, when }, { sessionId }) => {
      const item = await scheduling.remind(text, when, sessionId);
      return `Reminder #${item.id} set for ${item.when}.`;
    },
  });
  const addAlert = defineTool({
    name: 'add_alert',
    description: 'A standing rule: tell the owner when someone writes, or when a day of their calendar changes. Checked without the model.',
    input: alertInput,
    effects: [{ kind: 'write_local', what: { template: 'Alert you [when {who} writes][if your calendar for {day} changes]' } }],
    summary: 'Alert you [when {who} writes][if your calendar for {day} changes]',
    output: { kind: 'trigger' },
    execute: ({ rule, who, day, cooldownMinutes, dailyCap }, { sessionId }) => {
      if (rule === 'message_from' && !who) throw new Error('A message_from alert needs "who": a name, number, email or Telegram id.');
      const parsed = rule === 'message_from' ? { rule, who: who as string } : { rule, day: day ?? 'tomorrow' };
      const item = scheduling.addAlert(parsed, { ...(cooldownMinutes === undefined ? {} : { cooldownMinutes }), ...(dailyCap === undefined ? {} : { dailyCap }) }, sessionId);
      return `Alert #${item.id} set: ${item.title}.`;
    },
  });
  const snooze = defineTool({
    name: 'snooze_reminder',
    description: 'Snooze the reminder the owner just got (or the one with this id) for some minutes, e.g. when they reply "snooze 10 min".',
    input: z.object({ minutes: z.int().min(1).max(7 * 24 * 60), id: z.int().positive().optional() }),
    effects: [{ kind: 'write_local', what: { template: 'Snooze [reminder #{id} ]for {minutes} minutes' } }],
    summary: 'Snooze [reminder #{id} ]for {minutes} minutes',
    output: { kind: 'trigger' },
    execute: ({ minutes, id }, { sessionId }) => {
      const item = scheduling.snooze(minutes, sessionId, id);
      if (!item) throw new Error('There is no delivered reminder to snooze; list_schedule shows the reminders and their ids.');
      return `Snoozed reminder #${item.id} until ${item.when}.`;
    },
  });
  const list = defineTool({
    name: 'list_schedule',
    description: "The owner's reminders, alerts and briefings, soonest first.",
    input: z.object({}),
    effects: [{ kind: 'read_private', what: { template: 'your reminders and alerts' } }],
    summary: 'List your reminders and alerts',
    output: { kind: 'trigger' },
    execute: () => {
      const items = scheduling.list();
      if (items.length === 0) return 'Nothing is scheduled.';
      const content = items.map((item) => `#${item.id} ${item.kind} — ${item.title} — ${item.when}${item.status === 'active' ? '' : ` (${item.status})`}`).join('\n');
      // Titles are the words a job was made from: the list is as trusted as its least trusted job, so an address in a
      // reminder a stranger's forward set up never reads later as one the owner named.
      const label = weakest(items.map((item) => item.provenance));
      return label.kind === 'owner' ? content : { content, provenance: label };
    },
  });
  const cancel = defineTool({
    name: 'cancel_scheduled',
    description: 'Cancel a reminder, alert or briefing by id.',
    input: z.object({ id: z.int().positive() }),
    effects: [{ kind: 'write_local', what: { template: 'Cancel scheduled item #{id}' } }],
    summary: 'Cancel scheduled item #{id}',
    output: { kind: 'trigger' },
    execute: ({ id }) => (scheduling.remove(id) ? `Cancelled #${id}.` : `Nothing scheduled has id #${id}.`),
  });
  return [remind, addAlert, snooze, list, cancel] as const;
}
