import type { Database } from 'better-sqlite3';
import type { ChannelId } from '../common/channels.js';
import { parseProvenance, weakest } from '../common/labels.js';
import type { Provenance } from '../common/messages.js';
import { preparedOnce, type Prepare } from './statements.js';

export type JobKind = 'reminder' | 'briefing' | 'alert' | 'turn';
export type MissedPolicy = 'skip' | 'once' | 'all';
export type JobStatus = 'active' | 'paused' | 'done' | 'removed';
export type RunStatus = 'running' | 'delivered' | 'failed' | 'skipped' | 'nothing';

/** When a job is due: one instant, or a cron expression read in the job's time zone. */
export type JobSchedule =
  | { readonly type: 'once'; readonly at: number }
  | { readonly type: 'cron'; readonly expression: string; readonly description?: string }
  /** A cheap precondition checked every `everyMinutes` (alerts). */
  | { readonly type: 'every'; readonly everyMinutes: number };

export interface DeliveryTarget {
  readonly channel: ChannelId;
  readonly conversationId: string;
}

export interface Job {
  readonly id: number;
  readonly kind: JobKind;
  readonly title: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly schedule: JobSchedule;
  readonly timeZone: string;
  /** Undefined once a one-shot job ran, or while the job is paused or removed. */
  readonly nextRunAt: number | undefined;
  readonly missedPolicy: MissedPolicy;
  /** Urgent jobs are delivered in quiet hours; others wait until they end. */
  readonly urgent: boolean;
  readonly provenance: Provenance;
  readonly deliverTo: DeliveryTarget | undefined;
  readonly status: JobStatus;
  /** Failed runs in a row; reset by a delivered one. */
  readonly failures: number;
  readonly lastError: string | undefined;
  readonly sessionId: string | undefined;
  readonly createdAt: number;
}

export interface JobRun {
  readonly id: number;
  readonly jobId: number;
  readonly dueAt: number;
  readonly status: RunStatus;
  readonly outboxKey: string | undefined;
  readonly detail: string | undefined;
  readonly startedAt: number;
  readonly finishedAt: number | undefined;
  /** The channel that accepted the message of a delivered run, and the ids it returned (none for iMessage). */
  readonly deliveredVia: ChannelId | undefined;
  readonly channelMessageIds: readonly string[] | undefined;
}

/** What a channel answered when it accepted a run's message. */
export interface DeliveryReceipt {
  readonly channel: ChannelId;
  readonly messageIds: readonly string[];
}

export interface InboundSummary {
  readonly channel: ChannelId;
  readonly conversationId: string;
  readonly sender: string;
  readonly senderName: string | undefined;
  readonly text: string;
  readonly sentAt: number;
}

export interface NewJob {
  readonly kind: JobKind;
  readonly title: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly schedule: JobSchedule;
  readonly timeZone: string;
  readonly nextRunAt: number;
  readonly missedPolicy: MissedPolicy;
  readonly urgent: boolean;
  readonly provenance: Provenance;
  readonly deliverTo?: DeliveryTarget | undefined;
  readonly sessionId?: string | undefined;
}

interface JobRow {
  id: number;
  kind: JobKind;
  title: string;
  payload: string;
  schedule: string;
  time_zone: string;
  next_run_at: number | null;
  missed_policy: MissedPolicy;
  urgent: number;
  provenance: string;
  deliver_to: string | null;
  status: JobStatus;
  failures: number;
  last_error: string | null;
  session_id: string | null;
  created_at: number;
}

interface RunRow {
  id: number;
  job_id: number;
  due_at: number;
  status: RunStatus;
  outbox_key: string | null;
  detail: string | null;
  started_at: number;
  finished_at: number | null;
  delivered_via: ChannelId | null;
  channel_message_ids: string | null;
}

/** The jobs table and its runs. Every write that decides whether something fires is one statement or one transaction. */
export class JobStore {
  readonly #sql: Prepare;

  constructor(private readonly db: Database) {
    this.#sql = preparedOnce(db);
  }

  add(job: NewJob, now = Date.now()): Job {
    const row = this.#sql(
      `INSERT INTO jobs (kind, title, payload, schedule, time_zone, next_run_at, missed_policy, urgent, provenance, deliver_to, status,
         session_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', (SELECT id FROM sessions WHERE id = ?), ?, ?) RETURNING *`,
    ).get(
      job.kind,
      job.title,
      JSON.stringify(job.payload),
      JSON.stringify(job.schedule),
      job.timeZone,
      job.nextRunAt,
      job.missedPolicy,
      job.urgent ? 1 : 0,
      JSON.stringify(job.provenance),
      job.deliverTo ? JSON.stringify(job.deliverTo) : null,
      job.sessionId ?? null,
      now,
      now,
    ) as JobRow;
    return toJob(row);
  }

  get(id: number): Job | undefined {
    const row = this.#sql('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row ? toJob(row) : undefined;
  }

  /** Active and paused jobs, soonest first (paused and finished ones last). */
  list(options: { includeFinished?: boolean } = {}): Job[] {
    const where = options.includeFinished ? `status != 'removed'` : `status IN ('active', 'paused')`;
    return (this.#sql(`SELECT * FROM jobs WHERE ${where} ORDER BY next_run_at IS NULL, next_run_at, id`).all() as JobRow[]).map(toJob);
  }

  /** The active jobs due at or before `until`, soonest first. */
  due(until: number): Job[] {
    return (this.#sql(`SELECT * FROM jobs WHERE status = 'active' AND next_run_at <= ? ORDER BY next_run_at, id`).all(until) as JobRow[]).map(toJob);
  }

  /** The active job due soonest. */
  next(): Job | undefined {
    const row = this.#sql(`SELECT * FROM jobs WHERE status = 'active' AND next_run_at IS NOT NULL ORDER BY next_run_at, id LIMIT 1`).get() as JobRow | undefined;
    return row ? toJob(row) : undefined;
  }

  /** Active jobs with a due time (the scheduler picks the earliest after quiet hours). */
  scheduled(): Job[] {
    return (this.#sql(`SELECT * FROM jobs WHERE status = 'active' AND next_run_at IS NOT NULL ORDER BY next_run_at, id`).all() as JobRow[]).map(toJob);
  }

  /**
   * Claims the occurrence of `jobId` due at `dueAt` and moves the job on to `nextRunAt` (undefined: the job is done),
   * in one transaction. False when the occurrence was claimed before (by this process, an earlier one, or another).
   */
  claim(jobId: number, dueAt: number, nextRunAt: number | undefined, now = Date.now()): boolean {
    return this.db
      .transaction(() => {
        const moved = this.#sql(
          `UPDATE jobs SET next_run_at = ?, status = CASE WHEN ? IS NULL THEN 'done' ELSE status END, updated_at = ?
           WHERE id = ? AND status = 'active' AND next_run_at = ?`,
        ).run(nextRunAt ?? null, nextRunAt ?? null, now, jobId, dueAt).changes;
        if (moved !== 1) return false;
        return this.#sql(`INSERT INTO job_runs (job_id, due_at, status, started_at) VALUES (?, ?, 'running', ?) ON CONFLICT DO NOTHING`).run(jobId, dueAt, now).changes === 1;
      })
      .immediate();
  }

  /** A run outside the schedule (`pavise schedule run ID`); undefined when one was claimed at this very instant. */
  claimManual(jobId: number, now = Date.now()): JobRun | undefined {
    const row = this.#sql(`INSERT INTO job_runs (job_id, due_at, status, started_at) VALUES (?, ?, 'running', ?) ON CONFLICT DO NOTHING RETURNING *`).get(jobId, now, now) as
      | RunRow
      | undefined;
    return row ? toRun(row) : undefined;
  }

  /** Moves a job on without a run (missed occurrences skipped by policy). */
  reschedule(jobId: number, fromDueAt: number, nextRunAt: number | undefined, now = Date.now()): boolean {
    return (
      this.#sql(
        `UPDATE jobs SET next_run_at = ?, status = CASE WHEN ? IS NULL THEN 'done' ELSE status END, updated_at = ?
         WHERE id = ? AND status = 'active' AND next_run_at = ?`,
      ).run(nextRunAt ?? null, nextRunAt ?? null, now, jobId, fromDueAt).changes === 1
    );
  }

  /** Records a run for each occurrence skipped by policy, so the history shows them. */
  recordSkipped(jobId: number, dueAt: number, detail: string, now = Date.now()): void {
    this.#sql(`INSERT INTO job_runs (job_id, due_at, status, detail, started_at, finished_at) VALUES (?, ?, 'skipped', ?, ?, ?) ON CONFLICT DO NOTHING`).run(
      jobId,
      dueAt,
      detail,
      now,
      now,
    );
  }

  /** Notes why a run is still running (it waits for the model), so a restart knows to keep it waiting. */
  noteRunning(runId: number, detail: string): void {
    this.#sql(`UPDATE job_runs SET detail = ? WHERE id = ? AND status = 'running'`).run(detail, runId);
  }

  setRunOutbox(runId: number, outboxKey: string): void {
    this.#sql('UPDATE job_runs SET outbox_key = ? WHERE id = ?').run(outboxKey, runId);
  }

  /** Finishes a run; a delivered run resets the job's failures, a failed one counts. Returns the job's failures in a row. */
  finishRun(runId: number, status: Exclude<RunStatus, 'running'>, detail: string | undefined, now = Date.now(), receipt?: DeliveryReceipt): number {
    return this.db
      .transaction(() => {
        const run = this.#sql(
          `UPDATE job_runs SET status = ?, detail = ?, finished_at = ?, delivered_via = ?, channel_message_ids = ? WHERE id = ? AND status = 'running' RETURNING job_id`,
        ).get(status, detail ?? null, now, receipt?.channel ?? null, receipt ? JSON.stringify(receipt.messageIds) : null, runId) as { job_id: number } | undefined;
        if (!run) return 0;
        if (status === 'failed') {
          this.#sql('UPDATE jobs SET failures = failures + 1, last_error = ?, updated_at = ? WHERE id = ?').run(detail ?? null, now, run.job_id);
        } else if (status === 'delivered' || status === 'nothing') {
          this.#sql('UPDATE jobs SET failures = 0, last_error = NULL, updated_at = ? WHERE id = ?').run(now, run.job_id);
        }
        return (this.#sql('SELECT failures FROM jobs WHERE id = ?').get(run.job_id) as { failures: number } | undefined)?.failures ?? 0;
      })
      .immediate();
  }

  run(runId: number): JobRun | undefined {
    const row = this.#sql('SELECT * FROM job_runs WHERE id = ?').get(runId) as RunRow | undefined;
    return row ? toRun(row) : undefined;
  }

  runOf(jobId: number, dueAt: number): JobRun | undefined {
    const row = this.#sql('SELECT * FROM job_runs WHERE job_id = ? AND due_at = ?').get(jobId, dueAt) as RunRow | undefined;
    return row ? toRun(row) : undefined;
  }

  runByOutboxKey(key: string): JobRun | undefined {
    const row = this.#sql('SELECT * FROM job_runs WHERE outbox_key = ?').get(key) as RunRow | undefined;
    return row ? toRun(row) : undefined;
  }

  /** Runs still marked running: after a crash, these are looked at again (never started twice). */
  unfinishedRuns(): JobRun[] {
    return (this.#sql(`SELECT * FROM job_runs WHERE status = 'running' ORDER BY id`).all() as RunRow[]).map(toRun);
  }

  runs(jobId?: number, limit = 50): JobRun[] {
    const rows =
      jobId === undefined
        ? this.#sql('SELECT * FROM job_runs ORDER BY id DESC LIMIT ?').all(limit)
        : this.#sql('SELECT * FROM job_runs WHERE job_id = ? ORDER BY id DESC LIMIT ?').all(jobId, limit);
    return (rows as RunRow[]).map(toRun);
  }

  /** The most recent run delivered to a conversation, of a reminder (what "snooze" refers to). */
  lastDeliveredReminder(target: DeliveryTarget | undefined): Job | undefined {
    const rows = this.#sql(
      `SELECT jobs.* FROM job_runs JOIN jobs ON jobs.id = job_runs.job_id
       WHERE jobs.kind = 'reminder' AND job_runs.status = 'delivered' ORDER BY job_runs.finished_at DESC, job_runs.id DESC LIMIT 20`,
    ).all() as JobRow[];
    const jobs = rows.map(toJob);
    if (!target) return jobs[0];
    return jobs.find((job) => job.deliverTo?.channel === target.channel && job.deliverTo.conversationId === target.conversationId) ?? jobs[0];
  }

  setStatus(id: number, status: JobStatus, nextRunAt?: number, now = Date.now()): boolean {
    const keepNext = status === 'active' && nextRunAt === undefined;
    return (
      this.#sql(`UPDATE jobs SET status = ?, next_run_at = CASE WHEN ? THEN next_run_at ELSE ? END, failures = CASE WHEN ? = 'active' THEN 0 ELSE failures END, updated_at = ? WHERE id = ? AND status != 'removed'`).run(
        status,
        keepNext ? 1 : 0,
        status === 'active' ? (nextRunAt ?? null) : null,
        status,
        now,
        id,
      ).changes === 1
    );
  }

  /** What happens to occurrences missed while Pavise was not running. */
  setMissedPolicy(id: number, policy: MissedPolicy, now = Date.now()): boolean {
    return this.#sql('UPDATE jobs SET missed_policy = ?, updated_at = ? WHERE id = ?').run(policy, now, id).changes === 1;
  }

  /** Sets a one-shot job due again at `at` (snooze), active. */
  snooze(id: number, at: number, now = Date.now()): boolean {
    return (
      this.#sql(`UPDATE jobs SET schedule = ?, next_run_at = ?, status = 'active', updated_at = ? WHERE id = ? AND status != 'removed'`).run(
        JSON.stringify({ type: 'once', at }),
        at,
        now,
        id,
      ).changes === 1
    );
  }

  /**
   * A job's new words or time (the owner edited it): the fields given replace the stored ones. A new schedule sets
   * the next run only while the job is active; a paused job keeps none until it resumes.
   */
  edit(
    id: number,
    change: { readonly title?: string; readonly payload?: Readonly<Record<string, unknown>>; readonly schedule?: JobSchedule; readonly nextRunAt?: number; readonly provenance?: Provenance },
    now = Date.now(),
  ): boolean {
    return (
      this.#sql(
        `UPDATE jobs SET title = COALESCE(?, title), payload = COALESCE(?, payload), schedule = COALESCE(?, schedule), provenance = COALESCE(?, provenance),
           next_run_at = CASE WHEN ? AND status = 'active' THEN ? ELSE next_run_at END, updated_at = ?
         WHERE id = ? AND status IN ('active', 'paused')`,
      ).run(
        change.title ?? null,
        change.payload ? JSON.stringify(change.payload) : null,
        change.schedule ? JSON.stringify(change.schedule) : null,
        change.provenance ? JSON.stringify(change.provenance) : null,
        change.schedule ? 1 : 0,
        change.nextRunAt ?? null,
        now,
        id,
      ).changes === 1
    );
  }

  /** Alert state (last check, fired today) kept in the payload. */
  updatePayload(id: number, payload: Readonly<Record<string, unknown>>, now = Date.now()): void {
    this.#sql('UPDATE jobs SET payload = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(payload), now, id);
  }

  /**
   * Messages from other people stored since `since` (cheap alert preconditions and the briefing read these; no
   * model is involved). Pavise's own messages echoed back (the gateway marks them `self`) are not someone writing.
   */
  inboundSince(since: number, limit = 200): InboundSummary[] {
    return (
      this.#sql(
        `SELECT channel, conversation_id, sender, sender_name, text, sent_at FROM inbound_messages
         WHERE received_at > ? AND is_from_me = 0 AND kind IN ('message', 'forwarded') AND COALESCE(role, '') != 'self'
         ORDER BY received_at, id LIMIT ?`,
      ).all(since, limit) as { channel: ChannelId; conversation_id: string; sender: string; sender_name: string | null; text: string; sent_at: number }[]
    ).map((row) => ({ channel: row.channel, conversationId: row.conversation_id, sender: row.sender, senderName: row.sender_name ?? undefined, text: row.text, sentAt: row.sent_at }));
  }

  /** The least trusted label among a session's stored messages: what a job made in it was made from. */
  sessionLabel(sessionId: string): Provenance {
    const rows = this.#sql(
      `SELECT DISTINCT provenance FROM messages WHERE session_id = ? AND provenance IS NOT NULL AND json_extract(provenance, '$.kind') != 'owner'`,
    ).all(sessionId) as { provenance: string }[];
    return weakest(rows.map((row) => parseProvenance(row.provenance)));
  }
}

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    schedule: JSON.parse(row.schedule) as JobSchedule,
    timeZone: row.time_zone,
    nextRunAt: row.next_run_at ?? undefined,
    missedPolicy: row.missed_policy,
    urgent: row.urgent === 1,
    provenance: parseProvenance(row.provenance),
    deliverTo: row.deliver_to ? (JSON.parse(row.deliver_to) as DeliveryTarget) : undefined,
    status: row.status,
    failures: row.failures,
    lastError: row.last_error ?? undefined,
    sessionId: row.session_id ?? undefined,
    createdAt: row.created_at,
  };
}

function toRun(row: RunRow): JobRun {
  return {
    id: row.id,
    jobId: row.job_id,
    dueAt: row.due_at,
    status: row.status,
    outboxKey: row.outbox_key ?? undefined,
    detail: row.detail ?? undefined,
    startedAt: row.started_at,
    finishedAt: row.finished_at ?? undefined,
    deliveredVia: row.delivered_via ?? undefined,
    channelMessageIds: row.channel_message_ids === null ? undefined : (JSON.parse(row.channel_message_ids) as string[]),
  };
}
