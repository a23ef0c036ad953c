import type { Emitter } from '../common/emitter.js';
import type { ProviderErrorCode } from '../common/messages.js';
import type { ActivityLog } from '../permissions/activity-log.js';
import type { SecretBroker } from '../permissions/secret-broker.js';
import type { TurnOutcome } from './turn-runner.js';

/**
 * When the model cannot be reached, whoever needs it (a chat message, a scheduled job) waits for it, and one of them
 * tries it again after the first wait, then after twice as long each time it still fails, up to the longest.
 */
export const MODEL_RETRY_MS = Object.freeze({ firstMs: 30_000, maxMs: 10 * 60_000 });
/** Failures that pass with time (the provider already retried them a few times): the work waits and is tried again. */
const UNREACHABLE: ReadonlySet<ProviderErrorCode> = new Set(['network', 'server', 'overloaded', 'rate_limit', 'malformed_stream']);
/**
 * The account is out of credit: work waits as for an unreachable model, but no timer fixes it, only the owner (who is
 * told what to do). The model is tried again only after the longest wait, or at once when the owner writes (they may
 * have added credit): not every 30 s until what waits goes stale.
 */
const NEEDS_OWNER: ReadonlySet<ProviderErrorCode> = new Set(['quota']);

/** Whether a turn that failed with `code` should wait for the model rather than fail: it was unreachable, or out of credit. */
export function waitsForModel(code: ProviderErrorCode | undefined): boolean {
  return code !== undefined && (UNREACHABLE.has(code) || NEEDS_OWNER.has(code));
}

export interface ModelOutageDeps {
  readonly activity: Pick<ActivityLog, 'append'>;
  readonly events: Pick<Emitter<{ alert: [string] }>, 'emit'>;
  readonly broker: Pick<SecretBroker, 'redact'>;
  readonly now: () => number;
  readonly log: (line: string) => void;
  readonly retry: { readonly firstMs: number; readonly maxMs: number };
}

/** What is known of an outage while it lasts. */
export interface Outage {
  /** Counts outages in this process: what "once per outage" notices are keyed by. */
  readonly id: number;
  /** Why, in words for the owner: "it is overloaded", or the provider's own sentence on what to do (needsOwner). */
  readonly reason: string;
  /** The account is out of credit: only the owner can end it. */
  readonly needsOwner: boolean;
  /** When the model may be tried again. */
  readonly nextTryAt: number;
}

/**
 * Whether the model may be called now, shared by everything in a process that calls it (the gateway's chats, the
 * scheduler's jobs): one outage, one wait, one try at a time for all of them, so an outage costs one model call per
 * wait whoever is waiting.
 */
export class ModelOutage {
  /** Set while the model cannot be reached: no one calls it before `nextTryAt`, and then one at a time (`trying`). */
  #down: { id: number; reason: string; delayMs: number; nextTryAt: number; trying: boolean; needsOwner: boolean } | undefined;
  #outages = 0;

  constructor(private readonly deps: ModelOutageDeps) {}

  /** Whether work waiting for the model is worth looking at now: the model is up, or its next try is due. */
  due(): boolean {
    return !this.#down || this.deps.now() >= this.#down.nextTryAt;
  }

  current(): Outage | undefined {
    const down = this.#down;
    return down && { id: down.id, reason: down.reason, needsOwner: down.needsOwner, nextTryAt: down.nextTryAt };
  }

  /**
   * Whether a turn may call the model now: `up` while it is not known to be down; while it is, the first caller after
   * each wait claims the one `try`, and the others wait (false). What it returns is handed back to `tried`.
   * `ownerWrote`: the turn is for a message the owner just sent; while the account is out of credit that is the try
   * (they may have just added credit), without waiting for the timer.
   */
  mayCall(ownerWrote = false): false | 'up' | 'try' {
    const down = this.#down;
    if (!down) return 'up';
    if (down.trying || (this.deps.now() < down.nextTryAt && !(down.needsOwner && ownerWrote))) return false;
    down.trying = true;
    return 'try';
  }

  /**
   * What a turn (undefined: it failed to run) learned about the model: unreachable (wait longer), out of credit, reached,
   * or nothing. `call`: what mayCall said when the turn began. Only the claimed try lengthens the wait or frees the try:
   * turns that were already running when the model went away fail with it, and must neither double the wait once each
   * nor let a second try start beside the claimed one.
   */
  tried(result: TurnOutcome | undefined, call: 'up' | 'try'): void {
    const code = result?.unanswered ? result.error?.code : undefined;
    const down = this.#down;
    if (code !== undefined && NEEDS_OWNER.has(code)) {
      if (down?.needsOwner && call !== 'try') return;
      const delayMs = this.deps.retry.maxMs;
      const reason = result?.error?.message ?? code;
      const id = down?.id ?? ++this.#outages;
      // A turn that was already running when the outage began does not free a try another caller claimed.
      const trying = call === 'try' ? false : (down?.trying ?? false);
      this.#down = { id, reason, delayMs, nextTryAt: this.deps.now() + delayMs, trying, needsOwner: true };
      if (down?.needsOwner) return;
      // Once per outage, in the app too: the owner has to act, and may not be reading the chat the notice goes to.
      const line = this.deps.broker.redact(`Pavise can't use the model: ${reason} What waits for it is done once it works again.`);
      this.deps.log(line);
      this.deps.activity.append({ kind: 'system', summary: line, actor: 'pavise', decision: 'failed', detail: { code } });
      this.deps.events.emit('alert', line);
    } else if (code !== undefined && UNREACHABLE.has(code)) {
      if (down && call !== 'try') return;
      const delayMs = down ? Math.min(down.delayMs * 2, this.deps.retry.maxMs) : this.deps.retry.firstMs;
      const id = down?.id ?? ++this.#outages;
      this.#down = { id, reason: unreachableReason(code), delayMs, nextTryAt: this.deps.now() + delayMs, trying: false, needsOwner: false };
      const line = this.deps.broker.redact(`The model could not be reached (${result?.error?.message ?? code}); what needs it waits, next try in ${Math.round(delayMs / 1000)} s.`);
      this.deps.log(line);
      if (!down) this.deps.activity.append({ kind: 'system', summary: line, actor: 'pavise', decision: 'failed' });
    } else if (result && (code === undefined || REACHED.has(code))) {
      // Answered, or refused for a reason of its own (a key, a request): either way the model was reached.
      if (down) {
        this.deps.log('The model answers again; doing what waited for it.');
        this.deps.activity.append({ kind: 'system', summary: 'The model answers again; answering the messages and running the jobs that waited for it.', actor: 'pavise' });
      }
      this.#down = undefined;
    } else if (down && call === 'try') {
      down.trying = false;
    }
  }
}

/** Failures that came from the model itself: it was reached (a refused key, a rejected request). */
const REACHED: ReadonlySet<ProviderErrorCode> = new Set(['auth', 'bad_request', 'context_overflow', 'missing_key']);

/** Why the model could not be reached, in words for the owner. */
function unreachableReason(code: ProviderErrorCode): string {
  switch (code) {
    case 'network':
      return 'no connection to it';
    case 'overloaded':
      return 'it is overloaded';
    case 'rate_limit':
      return 'it is rate-limiting requests';
    case 'malformed_stream':
      return 'its answer was cut off';
    default:
      return 'it had a server error';
  }
}
