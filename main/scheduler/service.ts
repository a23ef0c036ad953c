import { watch } from 'node:fs';
import type { Config } from '../common/config-schema.js';
import type { Emitter } from '../common/emitter.js';
import { OWNER, type Provenance } from '../common/messages.js';
import type { ActivityLog } from '../permissions/activity-log.js';
import type { SecretBroker } from '../permissions/secret-broker.js';
import { ModelOutage, MODEL_RETRY_MS, waitsForModel } from '../runtime/model-outage.js';
import type { TurnOutcome, TurnRunner } from '../runtime/turn-runner.js';
import type { ChannelStore } from '../storage/channel-store.js';
import type { JobStore } from '../storage/job-store.js';
import type { Outbox } from '../storage/outbox.js';
import type { SessionStore } from '../storage/session-store.js';
import type { Switches } from '../storage/switches.js';
import type { ToolRegistry } from '../tools/registry.js';
import { alertProducer } from './alerts.js';
import { briefingCrons, briefingProducer } from './briefing.js';
import { systemClock, type Clock } from './clock.js';
import { ownerTargets } from './delivery.js';
import { ModelUnavailableError, Scheduler } from './scheduler.js';
import { ownerTimeZone, SCHEDULE_CHANGED_FILE, type Scheduling } from './scheduling.js';
import { NO_CALENDAR, NO_WEATHER, type CalendarSource, type ScheduleSources, type WeatherSource } from './sources.js';
import { nextCronRun } from './times.js';

/** What the running scheduler uses from the core. */
export interface SchedulerServiceDeps {
  readonly paths: { readonly home: string };
  readonly config: Config;
  readonly jobs: JobStore;
  readonly scheduling: Scheduling;
  readonly channels: ChannelStore;
  readonly outbox: Outbox;
  readonly sessions: Pick<SessionStore, 'current'>;
  readonly switches: Pick<Switches, 'get'>;
  readonly activity: Pick<ActivityLog, 'append'>;
  readonly runner: Pick<TurnRunner, 'run'>;
  readonly tools: ToolRegistry;
  readonly contactTools: ToolRegistry;
  readonly events: Pick<Emitter<{ alert: [string] }>, 'emit'>;
  readonly broker: Pick<SecretBroker, 'redact'>;
  /** The calendar and weather composed for this home; a test's `options` override them. */
  readonly scheduleSources?: ScheduleSources;
}

export interface SchedulerServiceOptions {
  readonly clock?: Clock;
  readonly calendar?: CalendarSource;
  readonly weather?: WeatherSource;
  readonly log?: (line: string) => void;
  /** Watch the home for changes made by other processes (the CLI, the app); on by default. */
  readonly watchHome?: boolean;
  /**
   * Whether the model may be called now: the gateway's, so chats and jobs wait out one outage together. Without it
   * (`pavise schedule run`, a scheduler without a gateway) the scheduler keeps its own.
   */
  readonly modelOutage?: ModelOutage;
}

/**
 * Starts the scheduler of one home (the gateway runs it): reminders, the briefing, alerts and scheduled turns. A
 * scheduled turn goes through the TurnRunner like any other, with the provenance of whoever created the job, so
 * it counts against the same pacing, breaker, spend cap and pause switch.
 */
export async function startScheduler(deps: SchedulerServiceDeps, signal: AbortSignal, options: SchedulerServiceOptions = {}): Promise<Scheduler> {
  const clock = options.clock ?? systemClock;
  const scheduler = createScheduler(deps, options);
  await syncBriefing(deps, clock.now());
  deps.scheduling.onChange(() => void scheduler.wake());
  if (options.watchHome ?? true) {
    try {
      const watcher = watch(deps.paths.home, (_event, name) => {
        if (name === SCHEDULE_CHANGED_FILE) void scheduler.wake();
      });
      watcher.unref();
      signal.addEventListener('abort', () => watcher.close(), { once: true });
    } catch {
      options.log?.('scheduler: cannot watch the home folder; changes from other processes are seen at the next due job');
    }
  }
  scheduler.start(signal);
  return scheduler;
}

/** A scheduler of one home, not started: `pavise schedule run` uses it for one run; the gateway starts it. */
export function createScheduler(deps: SchedulerServiceDeps, options: SchedulerServiceOptions = {}): Scheduler {
  const clock = options.clock ?? systemClock;
  const calendar = options.calendar ?? deps.scheduleSources?.calendar ?? NO_CALENDAR;
  const log = options.log ?? (() => undefined);
  const model = options.modelOutage ?? new ModelOutage({ ...deps, now: () => clock.now(), log, retry: MODEL_RETRY_MS });
  /**
   * `budget`: a fresh session (no history grows the input) and a cap on the answer. While the model is down the turn
   * does not call it (unless it is the one try); a turn that could not reach it throws ModelUnavailableError, and
   * stores nothing, so the run that waits for the model and runs again has its prompt in the history once.
   */
  const runTurn = async (sessionKey: string, text: string, trigger: Provenance, toolset: ToolRegistry, turnSignal: AbortSignal, budget?: { maxOutputTokens: number }) => {
    const call = model.mayCall();
    if (!call) throw new ModelUnavailableError(model.current()?.reason ?? 'the model is not answering');
    let result: TurnOutcome | undefined;
    try {
      result = await deps.runner.run({
        sessionKey: deps.sessions.current(sessionKey, budget !== undefined),
        text,
        trigger,
        toolset,
        signal: turnSignal,
        ...(budget ? { maxOutputTokens: budget.maxOutputTokens } : {}),
        onlyIfAnswered: true,
      });
    } finally {
      model.tried(result, call);
    }
    if (result.unanswered && waitsForModel(result.error?.code)) throw new ModelUnavailableError(result.error?.message ?? 'the model could not be reached');
    if (result.error && !result.reply) throw new Error(result.error.message);
    return result.reply;
  };
  return new Scheduler(
    {
      jobs: deps.jobs,
      outbox: deps.outbox,
      switches: deps.switches,
      activity: deps.activity,
      targets: (asked) => ownerTargets(deps.config, deps.channels, asked),
      tellOwner: (message) => deps.events.emit('alert', message),
      quietHours: () => deps.config.schedule.quietHours,
      pauseAfterFailures: deps.config.schedule.pauseAfterFailures,
      model,
      producers: {
        reminder: async (job) => ({ text: `⏰ ${String(job.payload.text ?? job.title)}\n(Reply “snooze 10 min” to hear it again.)`, provenance: job.provenance }),
        alert: alertProducer({ jobs: deps.jobs, calendar, now: () => clock.now() }),
        briefing: briefingProducer({
          jobs: deps.jobs,
          calendar,
          weather: options.weather ?? deps.scheduleSources?.weather ?? NO_WEATHER,
          important: () => deps.config.schedule.briefing.important,
          maxTokens: () => deps.config.schedule.briefing.maxTokens,
          now: () => clock.now(),
          // Phrased once, with no tools that act: the facts carry other people's words.
          phrase: (facts, provenance, maxTokens, turnSignal) =>
            runTurn(
              'schedule:briefing',
              `Phrase this morning briefing for me as one short message of at most ${Math.floor(maxTokens * 0.7)} words. Keep every fact, add none.\n\n${facts}`,
              provenance,
              deps.contactTools,
              turnSignal,
              { maxOutputTokens: maxTokens },
            ),
        }),
        turn: async (job, _dueAt, turnSignal) => {
          const reply = await runTurn(`schedule:job:${job.id}`, String(job.payload.prompt ?? job.title), job.provenance, deps.tools, turnSignal);
          return { text: reply, provenance: job.provenance };
        },
      },
    },
    { clock, log },
  );
}

/** The briefing jobs follow config: one per distinct weekday time, added or removed when config changes. */
async function syncBriefing(deps: SchedulerServiceDeps, now: number): Promise<void> {
  const briefing = deps.config.schedule.briefing;
  const wanted = briefing.enabled ? briefingCrons(briefing.times) : [];
  const zone = ownerTimeZone(deps.config);
  const existing = deps.jobs.list().filter((job) => job.kind === 'briefing');
  for (const job of existing) {
    if (job.schedule.type !== 'cron' || !wanted.includes(job.schedule.expression) || job.timeZone !== zone) deps.jobs.setStatus(job.id, 'removed', undefined, now);
  }
  for (const expression of wanted) {
    if (existing.some((job) => job.schedule.type === 'cron' && job.schedule.expression === expression && job.timeZone === zone && job.status !== 'removed')) continue;
    const first = await nextCronRun(expression, zone, now);
    if (first === undefined) continue;
    deps.jobs.add(
      {
        kind: 'briefing',
        title: 'Morning briefing',
        payload: {},
        schedule: { type: 'cron', expression, description: `briefing (${expression})` },
        timeZone: zone,
        nextRunAt: first,
        // Yesterday's briefing is stale; a late one within the grace period still goes.
        missedPolicy: 'skip',
        urgent: false,
        provenance: OWNER,
      },
      now,
    );
  }
}
