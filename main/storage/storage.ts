import type { Effect } from '../common/effects.js';
import { ActivityRows } from './activity-rows.js';
import { ApprovalStore } from './approval-store.js';
import { ChannelStore } from './channel-store.js';
import { JobStore } from './job-store.js';
import { openDatabase, type Database, type OpenDatabaseOptions } from './database.js';
import { MemoryStore } from './memory-store.js';
import { MemoriesStore } from './memories-store.js';
import { NotesStore } from './notes-store.js';
import { Outbox } from './outbox.js';
import { SentMessages } from './sent-messages.js';
import { SessionStore } from './session-store.js';
import { SkillStore } from './skill-store.js';
import { SqliteSpendHolds } from './spend-holds.js';
import { Switches } from './switches.js';

export interface StorageOptions extends OpenDatabaseOptions {
  /** The policy's target of an effect, which a time-limited grant covers (permissions/policy.ts). */
  readonly grantTargetOf: (effect: Effect) => string;
}

/** Every repository over one Pavise database. Only main/storage/ holds the handle and writes SQL. */
export interface Storage {
  readonly sessions: SessionStore;
  readonly notes: NotesStore;
  readonly approvals: ApprovalStore;
  readonly switches: Switches;
  /** The spend cap's holds on model calls still running, shared by every process on this home. */
  readonly spendHolds: SqliteSpendHolds;
  readonly sentMessages: SentMessages;
  readonly activityRows: ActivityRows;
  readonly channels: ChannelStore;
  readonly outbox: Outbox;
  readonly jobs: JobStore;
  readonly skills: SkillStore;
  /** Everything remembered (main/memory reads it). */
  readonly memory: MemoryStore;
  /** Long-term memories, conversation summaries, background model usage (main/memory). */
  readonly memories: MemoriesStore;
  /**
   * The database for the pairing codes (main/identity/pairing.ts), the one store not yet a repository here; it is
   * handed to that constructor and used nowhere else.
   */
  readonly pairingDatabase: Database;
  /** Runs `work` in one immediate transaction: everything it writes through these repositories lands together. */
  transaction<T>(work: () => T): T;
  close(): void;
}

export function openStorage(path: string, options: StorageOptions): Storage {
  const db = openDatabase(path, options);
  return {
    sessions: new SessionStore(db),
    notes: new NotesStore(db),
    approvals: new ApprovalStore(db, options.grantTargetOf),
    switches: new Switches(db),
    spendHolds: new SqliteSpendHolds(db),
    sentMessages: new SentMessages(db),
    activityRows: new ActivityRows(db),
    channels: new ChannelStore(db),
    outbox: new Outbox(db),
    jobs: new JobStore(db),
    skills: new SkillStore(db),
    memory: new MemoryStore(db),
    memories: new MemoriesStore(db),
    pairingDatabase: db,
    transaction: (work) => db.transaction(work).immediate(),
    close: () => db.close(),
  };
}
