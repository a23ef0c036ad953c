import { readFileSync } from 'node:fs';
import type { Config } from '../common/config-schema.js';
import type { ActivityItem, ChannelDot, SettingsView, Snapshot } from '../common/ipc.js';
import type { ChannelStatus } from '../channels/channel.js';
import type { ConfigStore } from '../config/config-store.js';
import type { ActivityLog, ActivityRow } from '../permissions/activity-log.js';
import type { ApprovalStore } from '../storage/approval-store.js';
import type { ChannelStore } from '../storage/channel-store.js';
import type { JobStore } from '../storage/job-store.js';
import type { Switches } from '../storage/switches.js';

/** What only the shell can do (open a System Settings pane, the login item); stubs elsewhere. */
export interface PlatformHooks {
  openSystemPane?(pane: 'full-disk-access' | 'automation' | 'notifications' | 'calendars' | 'contacts'): Promise<boolean> | boolean;
  openSettings?(section?: string): void;
  getOpenAtLogin?(): boolean;
  setOpenAtLogin?(enabled: boolean): void;
  fullDiskAccess?(): 'granted' | 'denied' | 'unknown';
  channelStatuses?(): readonly ChannelStatus[];
  /** Asks the owner for a skill to install (a folder or archive); undefined when cancelled. */
  pickSkillPath?(): Promise<string | undefined>;
}

export interface SnapshotDeps {
  readonly config: Config;
  readonly approvals: Pick<ApprovalStore, 'pending'>;
  readonly switches: Pick<Switches, 'get'>;
  readonly activity: Pick<ActivityLog, 'list'>;
  readonly spentTodayUsd: () => number;
  readonly jobs?: Pick<JobStore, 'next'>;
  readonly skills?: { list(): readonly { readonly name: string; readonly state: string }[] };
}

/** The popover's whole state, built afresh from the stores. */
export function buildSnapshot(deps: SnapshotDeps, platform: PlatformHooks, turnRunning: boolean, notices: Snapshot['notices'] = []): Snapshot {
  const next = deps.jobs?.next();
  const approvals = deps.approvals.pending();
  const paused = deps.switches.get('paused');
  const breaker = deps.switches.get('outbound_tripped');
  const statuses = platform.channelStatuses?.() ?? [];
  const channels: ChannelDot[] = (['imessage', 'telegram'] as const).map((channel) => {
    const enabled = deps.config.channels[channel].enabled;
    const status = statuses.find((item) => item.channel === channel);
    return { channel, enabled, state: enabled ? (status?.state ?? 'starting') : 'off', ...(status?.detail ? { detail: status.detail } : {}) };
  });
  return {
    approvals,
    paused: paused.on,
    breaker: breaker.on ? { tripped: true, ...(breaker.reason ? { reason: breaker.reason } : {}) } : { tripped: false },
    channels,
    model: { provider: deps.config.model.provider, name: deps.config.model.name },
    spend: { todayUsd: deps.spentTodayUsd(), capUsd: deps.config.limits.dailySpendUsd },
    recent: deps.activity
      .list({ limit: 200 })
      .filter((row) => (row.kind === 'effect' && !onlyReads(row)) || row.kind === 'approval_decided')
      .slice(-4)
      .reverse()
      .map(toActivityItem),
    tray: paused.on ? 'paused' : approvals.length > 0 ? 'approval' : turnRunning ? 'working' : 'idle',
    turnRunning,
    ...(next?.nextRunAt === undefined ? {} : { nextUp: { kind: next.kind, title: next.title, at: next.nextRunAt } }),
    notices,
    driftedSkills: (deps.skills?.list() ?? []).filter((skill) => skill.state === 'changed').map((skill) => skill.name),
  };
}

export interface SettingsDeps {
  readonly config: Config;
  readonly configStore: Pick<ConfigStore, 'read'>;
  readonly paths: { readonly home: string; readonly soul: string };
  readonly channels: Pick<ChannelStore, 'identities'>;
  readonly approvals: Pick<ApprovalStore, 'pending'>;
}

/** The settings window's view, without the Keychain's state (see handlers/settings.ts). */
export function buildSettings(deps: SettingsDeps, platform: PlatformHooks): SettingsView {
  // Read afresh: the window shows what is saved, even before a restart applies it.
  let config = deps.config;
  try {
    config = deps.configStore.read();
  } catch {
    // An invalid file on disk: show what is running.
  }
  return {
    model: { provider: config.model.provider, name: config.model.name, ...(config.model.baseURL ? { baseURL: config.model.baseURL } : {}) },
    limits: {
      dailySpendUsd: config.limits.dailySpendUsd,
      perRecipientPerMinute: config.limits.pacing.perRecipientPerMinute,
      perRecipientPerHour: config.limits.pacing.perRecipientPerHour,
      overallPerHour: config.limits.pacing.overallPerHour,
      approvalTimeoutMinutes: config.permissions.approvalTimeoutMinutes,
    },
    secrets: [],
    persona: readOrEmpty(deps.paths.soul),
    channels: {
      imessage: { enabled: config.channels.imessage.enabled, owners: config.channels.imessage.owners, fullDiskAccess: platform.fullDiskAccess?.() ?? 'unknown' },
      telegram: {
        enabled: config.channels.telegram.enabled,
        owners: [...config.channels.telegram.owners, ...deps.channels.identities('owner').filter((item) => item.channel === 'telegram').map((item) => item.identity)],
        tokenStored: false,
      },
      pendingPairings: deps.approvals.pending().filter((approval) => approval.tool === 'pair_sender'),
    },
    openAtLogin: platform.getOpenAtLogin?.() ?? false,
    home: deps.paths.home,
  };
}

/** Reading the owner's own data is not something Pavise "did" for the Recently list. */
function onlyReads(row: ActivityRow): boolean {
  const effects = (row.detail as { effects?: { kind?: string }[] }).effects;
  return Array.isArray(effects) && effects.length > 0 && effects.every((effect) => effect.kind === 'read_private');
}

export function toActivityItem(row: ActivityRow): ActivityItem {
  const effects = (row.detail as { effects?: { recipient?: string; host?: string; target?: string }[] }).effects;
  const first = effects?.[0];
  const target = first?.recipient ?? first?.host ?? first?.target;
  return {
    id: row.id,
    ts: row.ts,
    kind: row.kind,
    summary: row.summary,
    actor: row.actor,
    ...(row.tool ? { tool: row.tool } : {}),
    ...(row.decision ? { decision: row.decision } : {}),
    ...(target ? { target } : {}),
  };
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
