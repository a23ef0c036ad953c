import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApprovalView } from '../../main/common/approvals.js';
import { createProvider } from '../../main/llm/create-provider.js';
import type { Provider } from '../../main/llm/provider.js';
import { canonicalJson } from '../../main/permissions/canonical.js';
import { compose, type Core } from '../../main/compose.js';
import { SecretBroker } from '../../main/permissions/secret-broker.js';
import type { WebTransport } from '../../main/tools/web/web-fetcher.js';
import { startFakeAnthropic, type FakeLlmServer, type FakeScript, type RecordedRequest } from '../fakes/fake-anthropic-server.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { EFFECTFUL_TOOLS, type TestWorld } from './tools.js';
import { testSource } from '../helpers/tool-source.js';

export const FAKE_KEY = `sk-ant-api03-security-${'s'.repeat(40)}`;
export const SECRET_NAME = 'github-token';

/** One fake Anthropic server per test file; each scenario installs its own model script. */
export interface Harness {
  readonly fake: FakeLlmServer;
  readonly provider: Provider;
  use(script: FakeScript): void;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const fake = await startFakeAnthropic({ apiKey: FAKE_KEY });
  let script: FakeScript | undefined;
  fake.respondWith((request, index) => {
    if (!script) throw new Error('no model script installed');
    return script(request, index);
  });
  return {
    fake,
    provider: createProvider({ provider: 'anthropic', baseURL: fake.url }),
    use: (next) => {
      script = next;
    },
    close: () => fake.close(),
  };
}

export function newCanary(): string {
  return `ghp_CANARY${randomBytes(16).toString('hex')}`;
}

export type OwnerDecision = 'deny' | 'approve' | 'none';

export interface KnownRecipient {
  readonly channel: 'imessage' | 'email';
  readonly handle: string;
  readonly title?: string;
}

/** Alice is an iMessage conversation Pavise knows; Bob has been emailed before. */
export const KNOWN: readonly KnownRecipient[] = [
  { channel: 'imessage', handle: '+15550001111', title: 'Alice Smith' },
  { channel: 'email', handle: 'bob@example.com' },
];

export interface HomeOptions {
  readonly world: TestWorld;
  readonly canary: string;
  /** What the simulated owner answers to every approval prompt ('none': the test decides). */
  readonly decision: OwnerDecision;
  /**
   * People Pavise has talked with before: iMessage conversations (a chat.db conversation id and its title) and
   * email recipients written to a day ago (outside every pacing window).
   */
  readonly known?: readonly KnownRecipient[];
  readonly config?: unknown;
  /** Stand-ins left out because the real built-in of that name is registered (the file tools once a folder is granted). */
  readonly withoutStandIns?: readonly string[];
  /** More environment for the home (HOME and XDG_DATA_HOME, so the Trash is the test's own). */
  readonly env?: Readonly<Record<string, string>>;
  /** How web_fetch reaches the test's loopback HTTPS server. */
  readonly webTransport?: WebTransport;
}

/** A fresh PAVISE_HOME with its own database and an in-memory secret store holding the canary. */
export interface Home {
  readonly services: Core;
  readonly world: TestWorld;
  readonly canary: string;
  /** Every approval prompt as the owner was shown it. */
  readonly shown: ApprovalView[];
  readonly alerts: string[];
  /** Index of the first model request made for this home. */
  readonly firstRequest: number;
  close(): void;
}

export async function openHome(harness: Harness, options: HomeOptions): Promise<Home> {
  const dir = mkdtempSync(join(tmpdir(), 'pavise-sec-'));
  if (options.config !== undefined) writeFileSync(join(dir, 'config.json'), JSON.stringify(options.config));
  const secrets = new MemorySecretStore();
  await secrets.set(SECRET_NAME, options.canary);
  const services = await compose({
    env: { ...options.env, PAVISE_HOME: dir, ANTHROPIC_API_KEY: FAKE_KEY },
    secrets,
    provider: harness.provider,
    extraSources: [testSource(options.world.tools.filter((tool) => !options.withoutStandIns?.includes(tool.name)))],
    // The suite's stand-in create_event takes the native tool's name; test/security/calendar.test.ts runs the real ones.
    calendar: false,
    approvalPollMs: 5,
    ...(options.webTransport ? { webTransport: options.webTransport } : {}),
  });
  const dayAgo = Date.now() - 24 * 60 * 60_000;
  for (const known of options.known ?? []) {
    if (known.channel === 'imessage') services.channels.touchConversation('imessage', `iMessage;-;${known.handle}`, false, known.title, dayAgo);
    else services.pacer.record(known.channel, known.handle, dayAgo);
  }
  const shown: ApprovalView[] = [];
  const alerts: string[] = [];
  services.events.on('approval', (approval) => {
    shown.push(approval);
    if (options.decision === 'none') return;
    // The owner answers from the popover a moment later, as a person would.
    setImmediate(() => services.gate.decide(approval.id, options.decision === 'approve' ? 'approve' : 'deny', 'popover'));
  });
  services.events.on('alert', (message) => alerts.push(message));
  return {
    services,
    world: options.world,
    canary: options.canary,
    shown,
    alerts,
    firstRequest: harness.fake.requests.length,
    close: () => {
      services.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An executed effect with no approval the owner gave for exactly that call. */
export interface SilentEffect {
  readonly tool: string;
  readonly input: unknown;
}

/**
 * Effects that ran without the owner approving that exact call: an execution recorded by a test tool (fetch_web
 * counts unless it fetched a host the owner named), a message queued in the outbox by the real send_message, or an
 * `effect` row in the activity log of another built-in effectful tool (save_note). An approval covers an effect
 * when it was used for the same tool and the same arguments; each approval covers one effect.
 */
export function silentEffects(home: Home, ownerHosts: readonly string[], sessionIds: readonly string[]): SilentEffect[] {
  const used = home.services.approvals.list({ status: 'used', limit: 1000 });
  const approved = (tool: string, input: unknown): boolean => {
    const canonical = canonicalJson(home.services.broker.redactValue(input));
    const index = used.findIndex((approval) => approval.tool === tool && canonicalJson(approval.input) === canonical);
    if (index === -1) return false;
    used.splice(index, 1);
    return true;
  };
  const silent: SilentEffect[] = [];
  for (const execution of home.world.executions) {
    if (execution.tool === 'fetch_web') {
      const url = (execution.input as { url: string }).url;
      if (ownerHosts.includes(new URL(url).hostname)) continue;
    }
    if (!approved(execution.tool, execution.input)) silent.push(execution);
  }

  const calls = new Map<string, { name: string; input: unknown }>();
  for (const id of sessionIds) {
    for (const message of home.services.sessions.messages(id)) {
      if (message.role !== 'assistant') continue;
      for (const block of message.content) if (block.type === 'toolCall') calls.set(`tool:${id}:${block.id}`, { name: block.name, input: block.input });
    }
  }
  for (const entry of home.services.outbox.list(1000)) {
    const call = calls.get(entry.idempotencyKey);
    if (!call) {
      silent.push({ tool: 'outbox', input: { conversationId: entry.conversationId, text: entry.text, key: entry.idempotencyKey } });
      continue;
    }
    if (!approved(call.name, call.input)) silent.push({ tool: call.name, input: call.input });
  }

  const covered = new Set([...home.world.tools.map((tool) => tool.name), 'send_message']);
  for (const row of home.services.activity.list({ kind: 'effect', limit: 10_000 })) {
    if (!row.tool || covered.has(row.tool) || !EFFECTFUL_TOOLS.has(row.tool)) continue;
    const index = used.findIndex((approval) => approval.tool === row.tool && approval.title === row.summary);
    if (index === -1) silent.push({ tool: row.tool, input: row.summary });
    else used.splice(index, 1);
  }
  return silent;
}

/** Where the canary secret value turned up; every entry is a leak. */
export function canaryLeaks(home: Home, requests: readonly RecordedRequest[], sessionIds: readonly string[], reply: string): string[] {
  const places: Record<string, unknown> = {
    'a model request': requests.slice(home.firstRequest).map((request) => request.rawBody),
    'a tool execution input': home.world.executions,
    'a reader input': home.world.reads,
    'the activity log': home.services.activity.list({ limit: 10_000 }),
    'the approvals table': home.services.approvals.list({ limit: 1000 }),
    'an approval prompt shown': home.shown,
    'the session messages': sessionIds.map((id) => home.services.sessions.messages(id)),
    'the notes': home.services.notes.list(100),
    'the outbox': home.services.outbox.list(1000),
    'the reply': reply,
  };
  // Disguised copies count too (hex, base64, URL-encoded, full-width…): a broker that knows only the canary finds them.
  const detector = new SecretBroker(new MemorySecretStore());
  detector.remember('canary', home.canary);
  return Object.entries(places)
    .filter(([, value]) => {
      const json = JSON.stringify(value) ?? '';
      return json.includes(home.canary) || detector.redact(json) !== json;
    })
    .map(([place]) => place);
}
