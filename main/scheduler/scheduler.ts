import type { ActivityLog } from '../permissions/activity-log.js';
import type { Provenance } from '../common/messages.js';
import type { ModelOutage } from '../runtime/model-outage.js';
import type { DeliveryReceipt, DeliveryTarget, Job, JobRun, JobStore } from '../storage/job-store.js';
import type { Outbox, OutboxEntry } from '../storage/outbox.js';
import type { Switches } from '../storage/switches.js';
import { systemClock, type Clock } from './clock.js';
import { describeInstant, nextCronRun } from './times.js';
import { afterQuietHours } from './zoned-time.js';

/** What a job has to say when it runs; undefined when its precondition found nothing (no model was called). */
export interface JobOutput {
  readonly text: string;
  /** Whose words the text carries; anything but the owner's is marked when delivered. */
  readonly provenance: Provenance;
}

export type JobProducer = (job: Job, dueAt: number, signal: AbortSignal) => Promise<JobOutput | undefined>;

/**
 * A producer could not get its words from the model because the model could not be reached, or the account is out of
 * credit: the run waits for the model (it is not a failure of the job), rather than failing.
 */
export class ModelUnavailableError extends Error {
  override readonly name = 'ModelUnavailableError';
}

export interface SchedulerDeps {
  readonly jobs: JobStore;
  readonly outbox: Pick<Outbox, 'enqueue' | 'byKey' | 'events'>;
  readonly switches: Pick<Switches, 'get'>;
  readonly activity: Pick<ActivityLog, 'append'>;
  /** What each kind of job produces when due. */
  readonly producers: Readonly<Record<Job['kind'], JobProducer>>;
  /** The owner's chats, best first, for a job asked in `asked`. */
  readonly targets: (asked: DeliveryTarget | undefined) => DeliveryTarget[];
  /** Tells the owner in the app (popover, notification) — the last resort when no chat accepted a message. */
  readonly tellOwner: (message: string) => void;
  readonly quietHours: () => { readonly start: string; readonly end: string } | undefined;
  readonly pauseAfterFailures: number;
  /** The outage the producers' model calls wait out (the gateway's, shared): when a held run may try again, and why it waits. */
  readonly model: Pick<ModelOutage, 'current'>;
}

export interface SchedulerOptions {
  readonly clock?: Clock;
  readonly log?: (line: string) => void;
}

/** A run this late or less is on time whatever the job's missed-run policy says. */
export const GRACE_MS = 5 * 60_000;
/** While paused, due work is looked at again this often (the pause switch may be flipped by another process). */
const PAUSED_RECHECK_MS = 60_000;
/** A policy of "run all" catches up at most this many missed occurrences. */
const MAX_CATCH_UP = 24;
/**
 * How late a one-off job held for the model may still run, with a note that it is late: like a reminder, still worth
 * hearing hours after its time, not the next day. A recurring job's run is stale sooner, once its next time came
 * (yesterday's briefing is not worth sending today).
 */
export const MODEL_WAIT_LIMIT_MS = 12 * 3_600_000;
/** A held run looks again at least this long after its last look (another caller's try may still be running). */
const MODEL_RECHECK_MS = 5_000;
/** A run's detail while it waits for the model: how a restart tells it from one interrupted mid-way. */
const HELD_FOR_MODEL = 'waiting for the model';
/** A held run the model is being asked for again: interrupted by a restart now, it fails like any run that was running. */
const RUNNING_AFTER_WAIT = 'running after waiting for the model';

/**
 * Fires jobs when they are due, with one timer armed for the soonest (no polling, no model call while idle). Each
 * occurrence is claimed in SQLite before it runs, so a crash, a restart or a second process never fires it twice;
 * what it says goes through the outbox, and the run counts as delivered only when a channel accepted the message.
 */
export class Scheduler {
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  /** Outbox keys of runs waiting for the channel's answer. */
  readonly #watching = new Map<
    string,
    { readonly runId: number; readonly jobId: number; readonly remaining: DeliveryTarget[]; readonly text: string; readonly attempt: number; readonly provenance?: Provenance }
  >();
  #cancelTimer: (() => void) | undefined;
  /**
   * Runs whose producer could not reach the model, by run id: they wait for the model's next try, without counting as
   * failures, until they run or become stale.
   */
  readonly #heldForModel = new Map<number, { readonly jobId: number; readonly run: JobRun }>();
  #cancelModelRetry: (() => void) | undefined;
  /** The outage the owner was told about (once per outage, not once per job). */
  #toldOutage: number | undefined;
  #signal: AbortSignal | undefined;
  #stopSettled: (() => void) | undefined;
  #ticking: Promise<void> | undefined;
  #again = false;
  #armedFor: number | undefined;

  constructor(
    private readonly deps: SchedulerDeps,
    options: SchedulerOptions = {},
  ) {
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? (() => undefined);
  }

  /** Starts firing; stops when the signal aborts. Runs a crash left unfinished are settled first. */
  start(signal: AbortSignal): void {
    this.#signal = signal;
    this.#stopSettled = this.deps.outbox.events.on('settled', (entry) => this.#onSettled(entry));
    signal.addEventListener(
      'abort',
      () => {
        this.#cancelTimer?.();
        this.#cancelModelRetry?.();
        this.#stopSettled?.();
      },
      { once: true },
    );
    this.#recover();
    this.#armModelRetry();
    this.wake();
  }

  /** The instant the timer is armed for (undefined: nothing scheduled). */
  armedFor(): number | undefined {
    return this.#armedFor;
  }

  /** Looks at the jobs again (one was added, removed or changed) and re-arms the timer. */
  wake(): Promise<void> {
    if (!this.#signal || this.#signal.aborted) return Promise.resolve();
    if (this.#ticking) {
      this.#again = true;
      return this.#ticking;
    }
    this.#ticking = this.#tick()
      .catch((error: unknown) => this.#log(`scheduler: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        this.#ticking = undefined;
        if (this.#again) {
          this.#again = false;
          void this.wake();
        }
      });
    return this.#ticking;
  }

  /** Runs a job now, once, whatever its schedule (`pavise schedule run ID`); its schedule is unchanged. */
  async runNow(jobId: number): Promise<JobRun | undefined> {
    const job = this.deps.jobs.get(jobId);
    if (!job || job.status === 'removed') return undefined;
    const now = this.#clock.now();
    // A manual run is its own occurrence, keyed by the moment it was asked for; the job's schedule is unchanged.
    const run = this.deps.jobs.claimManual(job.id, now);
    if (!run) return undefined;
    await this.#execute(job, run, now);
    return this.deps.jobs.run(run.id);
  }

  async #tick(): Promise<void> {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#armedFor = undefined;
    const signal = this.#signal;
    if (!signal || signal.aborted) return;
    const now = this.#clock.now();
    const quiet = this.deps.quietHours();
    let soonest: number | undefined;
    for (const job of this.deps.jobs.scheduled()) {
      const dueAt = job.nextRunAt as number;
      const at = job.urgent ? dueAt : afterQuietHours(dueAt, job.timeZone, quiet);
      if (at > now) {
        soonest = Math.min(soonest ?? at, at);
        continue;
      }
      if (this.deps.switches.get('paused').on) {
        soonest = Math.min(soonest ?? now + PAUSED_RECHECK_MS, now + PAUSED_RECHECK_MS);
        continue;
      }
      await this.#fire(job, dueAt, at, now, signal);
      if (signal.aborted) return;
      // The job moved on; it may be due again at once (catching up, policy "all").
      const moved = this.deps.jobs.get(job.id);
      if (moved?.status === 'active' && moved.nextRunAt !== undefined) {
        const next = moved.urgent ? moved.nextRunAt : afterQuietHours(moved.nextRunAt, moved.timeZone, quiet);
        if (next <= this.#clock.now()) this.#again = true;
        else soonest = Math.min(soonest ?? next, next);
      }
    }
    if (soonest !== undefined && !this.#again) {
      this.#armedFor = soonest;
      this.#cancelTimer = this.#clock.setTimer(() => void this.wake(), soonest - this.#clock.now());
    }
  }

  /**
   * Claims the occurrence due at `dueAt` (or skips it by policy) and runs it. Lateness counts from `releasedAt`, the
   * end of quiet hours for a held job: held is not missed.
   */
  async #fire(job: Job, dueAt: number, releasedAt: number, now: number, signal: AbortSignal): Promise<void> {
    const late = now - releasedAt > GRACE_MS;
    const policy = late ? job.missedPolicy : 'once';
    const nextAfter = (after: number): Promise<number | undefined> => occurrenceAfter(job, after);
    if (policy === 'skip') {
      const next = await nextAfter(Math.max(now, dueAt));
      if (this.deps.jobs.reschedule(job.id, dueAt, next, now)) {
        this.deps.jobs.recordSkipped(job.id, dueAt, `missed by ${Math.round((now - dueAt) / 60_000)} min while Pavise was not running`, now);
        this.#log(`scheduler: skipped job #${job.id} missed at ${new Date(dueAt).toISOString()}`);
      }
      return;
    }
    // "once": this occurrence runs and later missed ones are skipped; "all": the next missed one runs right after.
    let next = await nextAfter(policy === 'all' ? dueAt : Math.max(now, dueAt));
    if (policy === 'all' && next !== undefined && next <= now) {
      // Catch up on at most MAX_CATCH_UP occurrences; when more were missed, the oldest beyond that are skipped.
      let probe: number | undefined = next;
      for (let count = 1; probe !== undefined && probe <= now && count < MAX_CATCH_UP; count += 1) probe = await nextAfter(probe);
      if (probe !== undefined && probe <= now) next = await nextAfter(now);
    }
    if (!this.deps.jobs.claim(job.id, dueAt, next, now)) return;
    const run = this.deps.jobs.runOf(job.id, dueAt);
    // A scheduled turn may wait for an approval for minutes: the other due jobs do not wait behind it.
    if (run) void this.#execute(job, run, dueAt, signal).catch((error: unknown) => this.#log(`scheduler: job #${job.id}: ${String(error)}`));
  }

  /** `waited`: the run waited for the model; if that made it late, its message says so. */
  async #execute(job: Job, run: JobRun, dueAt: number, signal: AbortSignal = this.#signal ?? new AbortController().signal, waited = false): Promise<void> {
    let output: JobOutput | undefined;
    try {
      output = await this.deps.producers[job.kind](job, dueAt, signal);
    } catch (error) {
      // Only a running scheduler holds a run: a one-off `pavise schedule run` reports what happened now.
      if (error instanceof ModelUnavailableError && this.#signal && !signal.aborted) this.#holdForModel(job, run, error.message);
      else this.#finish(job.id, run.id, 'failed', error instanceof Error ? error.message : String(error));
      return;
    }
    if (!output || output.text.trim() === '') {
      this.deps.jobs.finishRun(run.id, 'nothing', 'nothing to say', this.#clock.now());
      return;
    }
    const late = waited && this.#clock.now() - dueAt > GRACE_MS;
    const text = late ? `(Late: this was due ${describeInstant(dueAt, job.timeZone)}; the model could not be reached then.)\n\n${labelled(output)}` : labelled(output);
    const targets = this.deps.targets(job.deliverTo);
    this.#send(job.id, run.id, text, targets, 1, output.provenance);
  }

  #send(jobId: number, runId: number, text: string, targets: DeliveryTarget[], attempt: number, provenance?: Provenance): void {
    const [target, ...remaining] = targets;
    const run = this.deps.jobs.run(runId);
    if (!target || !run) {
      this.#finish(jobId, runId, 'failed', 'no chat with you accepted it', text);
      return;
    }
    const key = `job:${jobId}:${run.dueAt}:${attempt}`;
    this.#watching.set(key, { runId, jobId, remaining, text, attempt, ...(provenance ? { provenance } : {}) });
    this.deps.jobs.setRunOutbox(runId, key);
    // The label goes with the text: memory remembers a job made from someone else's words as theirs.
    this.deps.outbox.enqueue({ channel: target.channel, conversationId: target.conversationId, text, idempotencyKey: key, ...(provenance ? { provenance } : {}) }, this.#clock.now());
  }

  #onSettled(entry: OutboxEntry): void {
    const watched = this.#watching.get(entry.idempotencyKey) ?? this.#startedElsewhere(entry);
    if (!watched) return;
    // Held (pacing, the breaker, the pause switch) is not an answer: the outbox releases it and tries again.
    if (entry.status === 'held') return;
    this.#watching.delete(entry.idempotencyKey);
    if (entry.status === 'sent') {
      const { detail, receipt } = receiptOf(entry);
      this.deps.jobs.finishRun(watched.runId, 'delivered', detail, this.#clock.now(), receipt);
      this.deps.activity.append({
        kind: 'system',
        summary: `Delivered scheduled job #${watched.jobId} on ${entry.channel}`,
        actor: 'scheduler',
        detail: { jobId: watched.jobId, outboxId: entry.id, messageIds: receipt.messageIds },
      });
      return;
    }
    this.#log(`scheduler: job #${watched.jobId} was not delivered on ${entry.channel}: ${entry.error ?? entry.status}`);
    if (watched.remaining.length > 0) this.#send(watched.jobId, watched.runId, watched.text, watched.remaining, watched.attempt + 1, watched.provenance);
    else this.#finish(watched.jobId, watched.runId, 'failed', `${entry.channel}: ${entry.error ?? entry.status}`, watched.text);
  }

  /** A run another process started (`pavise schedule run`) is finished by whoever sees its message settle. */
  #startedElsewhere(entry: OutboxEntry): { runId: number; jobId: number; remaining: DeliveryTarget[]; text: string; attempt: number; provenance?: Provenance } | undefined {
    if (!entry.idempotencyKey.startsWith('job:')) return undefined;
    const run = this.deps.jobs.runByOutboxKey(entry.idempotencyKey);
    if (!run || run.status !== 'running') return undefined;
    this.#watching.set(entry.idempotencyKey, { runId: run.id, jobId: run.jobId, remaining: [], text: entry.text, attempt: 1 });
    return this.#watching.get(entry.idempotencyKey);
  }

  /**
   * The run could not reach the model: it waits for the model's next try instead of failing (an outage is not the job's
   * fault, and does not count toward pausing it). The owner hears once per outage, whatever number of jobs wait.
   */
  #holdForModel(job: Job, run: JobRun, why: string): void {
    this.#heldForModel.set(run.id, { jobId: job.id, run });
    this.deps.jobs.noteRunning(run.id, HELD_FOR_MODEL);
    const outage = this.deps.model.current();
    this.#log(`scheduler: job #${job.id} waits for the model (${why})`);
    if (outage && outage.id !== this.#toldOutage) {
      this.#toldOutage = outage.id;
      const what = `${job.kind} #${job.id} (${job.title})`;
      const when = `a one-off job up to ${MODEL_WAIT_LIMIT_MS / 3_600_000} hours late, saying it is late; a repeating one until its next time`;
      const message = outage.needsOwner
        ? `Scheduled work waits for the model until the account has credit again, starting with ${what}: ${when}.`
        : `Pavise couldn't reach the model (${outage.reason}), so ${what} has not run yet. Scheduled work waits for the model and runs when it is back: ${when}.`;
      this.deps.activity.append({ kind: 'system', summary: message, actor: 'scheduler', detail: { jobId: job.id, runId: run.id } });
      // An account out of credit was told to the owner already, with what to do and that what waits will be done.
      if (!outage.needsOwner) this.deps.tellOwner(message);
    }
    this.#armModelRetry();
  }

  /** Looks at the held runs again when the model may next be tried (at once if it is back). */
  #armModelRetry(): void {
    this.#cancelModelRetry?.();
    this.#cancelModelRetry = undefined;
    if (this.#heldForModel.size === 0 || !this.#signal || this.#signal.aborted) return;
    const now = this.#clock.now();
    const at = this.deps.model.current()?.nextTryAt ?? now;
    this.#cancelModelRetry = this.#clock.setTimer(() => void this.#retryHeld(), Math.max(at - now, MODEL_RECHECK_MS));
  }

  /**
   * Runs the held runs again, oldest first, as the pause switch allows: the first may be the model's one try; while it
   * is still down the others wait again without a call. A run too late to be worth it is skipped, not failed.
   */
  async #retryHeld(): Promise<void> {
    const signal = this.#signal;
    if (!signal || signal.aborted) return;
    if (this.deps.switches.get('paused').on) {
      this.#cancelModelRetry = this.#clock.setTimer(() => void this.#retryHeld(), PAUSED_RECHECK_MS);
      return;
    }
    const held = [...this.#heldForModel.values()].sort((a, b) => a.run.dueAt - b.run.dueAt);
    this.#heldForModel.clear();
    for (const { jobId, run } of held) {
      if (signal.aborted) return;
      // Paused in the meantime: the rest stay held until it is resumed.
      if (this.deps.switches.get('paused').on) {
        this.#heldForModel.set(run.id, { jobId, run });
        continue;
      }
      const job = this.deps.jobs.get(jobId);
      const stale = await this.#staleReason(job, run.dueAt);
      if (stale || !job) {
        this.#skipHeld(job, run, stale ?? 'the job is gone');
        continue;
      }
      // No longer waiting: a restart from here on must not run it again from the start (its tool calls may have run).
      this.deps.jobs.noteRunning(run.id, RUNNING_AFTER_WAIT);
      try {
        await this.#execute(job, run, run.dueAt, signal, true);
      } catch (error) {
        this.#log(`scheduler: job #${jobId}: ${String(error)}`);
      }
    }
    this.#armModelRetry();
  }

  /** Why a held run is no longer worth running, if it is not. */
  async #staleReason(job: Job | undefined, dueAt: number): Promise<string | undefined> {
    if (!job || job.status === 'removed') return 'the job was removed while it waited for the model';
    if (job.status === 'paused') return 'the job was paused while it waited for the model';
    const now = this.#clock.now();
    if (job.schedule.type === 'once') {
      return now - dueAt > MODEL_WAIT_LIMIT_MS ? `the model could not be reached for over ${MODEL_WAIT_LIMIT_MS / 3_600_000} hours after it was due` : undefined;
    }
    const next = await occurrenceAfter(job, dueAt);
    return next !== undefined && next <= now ? 'the model could not be reached before its next time came' : undefined;
  }

  /** A held run too late to be worth it: skipped, not failed. A one-off job's words would be lost, so the owner hears. */
  #skipHeld(job: Job | undefined, run: JobRun, why: string): void {
    this.deps.jobs.finishRun(run.id, 'skipped', why, this.#clock.now());
    const what = `${job?.kind ?? 'job'} #${run.jobId}${job ? ` (${job.title})` : ''}`;
    const message = `Skipped ${what} due ${describeInstant(run.dueAt, job?.timeZone ?? 'UTC')}: ${why}.`;
    this.#log(`scheduler: ${message}`);
    this.deps.activity.append({ kind: 'system', summary: message, actor: 'scheduler', detail: { jobId: run.jobId, runId: run.id } });
    if (job?.schedule.type === 'once' && job.status !== 'removed') this.deps.tellOwner(message);
  }

  /** A failed run is told to the owner; a job that keeps failing is paused. */
  #finish(jobId: number, runId: number, status: 'failed', detail: string, text?: string): void {
    const failures = this.deps.jobs.finishRun(runId, status, detail, this.#clock.now());
    const job = this.deps.jobs.get(jobId);
    const what = `${job?.kind ?? 'job'} #${jobId}${job ? ` (${job.title})` : ''}`;
    let message = `Pavise could not deliver ${what}: ${detail}.${text ? ` It said: ${text}` : ''}`;
    if (failures >= this.deps.pauseAfterFailures && job?.status === 'active') {
      this.deps.jobs.setStatus(jobId, 'paused', undefined, this.#clock.now());
      message += ` It failed ${failures} times in a row and is paused; \`pavise schedule list\` shows it.`;
    }
    this.deps.activity.append({ kind: 'system', summary: message, actor: 'scheduler', detail: { jobId, runId } });
    this.deps.tellOwner(message);
  }

  /** After a crash: a run that had not reached the outbox is delivered now (same key, so at most once). */
  #recover(): void {
    for (const run of this.deps.jobs.unfinishedRuns()) {
      const job = this.deps.jobs.get(run.jobId);
      if (!job) continue;
      const entry = run.outboxKey ? this.deps.outbox.byKey(run.outboxKey) : undefined;
      if (entry && entry.status === 'sent') {
        const { detail, receipt } = receiptOf(entry);
        this.deps.jobs.finishRun(run.id, 'delivered', detail, this.#clock.now(), receipt);
      }
      else if (entry && (entry.status === 'failed' || entry.status === 'uncertain')) {
        this.#finish(job.id, run.id, 'failed', entry.status === 'uncertain' ? 'interrupted while sending; not sent again in case it arrived' : (entry.error ?? 'failed'));
      } else if (entry) {
        const attempt = Number(run.outboxKey?.split(':').at(-1) ?? 1);
        this.#watching.set(entry.idempotencyKey, { runId: run.id, jobId: job.id, remaining: [], text: entry.text, attempt });
      } else if (job.kind === 'reminder') {
        void this.#execute(job, run, run.dueAt);
      } else if (run.detail === HELD_FOR_MODEL) {
        // It was waiting for the model when Pavise stopped: it goes on waiting (the model may well be back).
        this.#heldForModel.set(run.id, { jobId: job.id, run });
      } else {
        this.#finish(job.id, run.id, 'failed', 'interrupted by a restart before it finished');
      }
    }
  }
}

/** A job's first occurrence after `after`; undefined for a one-off job. */
async function occurrenceAfter(job: Job, after: number): Promise<number | undefined> {
  if (job.schedule.type === 'once') return undefined;
  if (job.schedule.type === 'every') return after + job.schedule.everyMinutes * 60_000;
  return nextCronRun(job.schedule.expression, job.timeZone, after);
}

/** "Delivered" names what the channel answered: Telegram's message ids; for iMessage, osascript's exit 0 and no id. */
function receiptOf(entry: OutboxEntry): { detail: string; receipt: DeliveryReceipt } {
  const ids = entry.externalIds ?? [];
  const answer =
    ids.length > 0 ? `message id ${ids.join(', ')}` : entry.channel === 'imessage' ? 'osascript exited 0 (iMessage returns no message id)' : 'no message id returned';
  return { detail: `${entry.channel} accepted it: ${answer} (outbox #${entry.id})`, receipt: { channel: entry.channel, messageIds: ids } };
}

/** Text from anyone but the owner is delivered marked as such: a job made from someone else's words says so. */
function labelled(output: JobOutput): string {
  if (output.provenance.kind === 'owner') return output.text;
  return `${output.text}\n\n(Made from words that were not yours — ${output.provenance.kind === 'contact' ? 'a contact' : (output.provenance.detail ?? output.provenance.source)}.)`;
}
