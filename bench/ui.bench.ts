/**
 * `npm run bench -- ui [RUNS]`: the popover against a real core. (1) From the gate creating an approval to its card
 * being in the popover's DOM and painted, measured in this process from the gate's `onApprovalRequested` to the page
 * reporting the card (a MutationObserver, then one animation frame) — median of RUNS (default 25) after warm-up;
 * target under 100 ms. (2) The popover's start-up JavaScript, gzipped; target under 250 KB.
 */
import { performance } from 'node:perf_hooks';
import { anthropicText, anthropicToolUse } from '../test/fakes/fake-anthropic-server.js';
import { buildRendererWithSizes, launchBrowser, openView, removeBuild, startCore } from '../test/renderer/bridge.js';
import { commandTool, USAGE } from '../test/renderer/scenarios.js';

const RUNS = Math.max(20, Number(process.argv[2] ?? 25));
const WARMUP = 3;

const build = buildRendererWithSizes();
const core = await startCore({ extraTools: [commandTool([])] });
const browser = await launchBrowser();
const view = await openView(browser, core, build.outDir, 'popover');

const created = new Map<string, number>();
const seen = new Map<string, (at: number) => void>();
core.services.events.on('approval', (approval) => created.set(approval.id, performance.now()));
await view.page.exposeBinding('__benchSeen', (_source, id: string) => seen.get(id)?.(performance.now()));
await view.page.evaluate(() => {
  type Node = { querySelectorAll?(selector: string): Iterable<{ getAttribute(name: string): string | null }>; getAttribute?(name: string): string | null; matches?(selector: string): boolean };
  const page = globalThis as unknown as {
    document: { body: unknown };
    MutationObserver: new (callback: (records: { addedNodes: Iterable<Node> }[]) => void) => { observe(target: unknown, options: object): void };
    requestAnimationFrame(callback: () => void): void;
    __benchSeen(id: string): void;
  };
  const reported = new Set<string>();
  const report = (id: string | null) => {
    if (!id || reported.has(id)) return;
    reported.add(id);
    page.requestAnimationFrame(() => page.__benchSeen(id));
  };
  new page.MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.matches?.('[data-approval-id]')) report(node.getAttribute?.('data-approval-id') ?? null);
        for (const inner of node.querySelectorAll?.('[data-approval-id]') ?? []) report(inner.getAttribute('data-approval-id'));
      }
    }
  }).observe(page.document.body, { childList: true, subtree: true });
});

async function once(index: number): Promise<number> {
  core.fake.enqueue(anthropicToolUse(`toolu_bench${index}`, 'run_command', { argv: ['echo', `run ${index}`] }, USAGE), anthropicText('Okay.', USAGE));
  const before = new Set(core.services.approvals.pending().map((approval) => approval.id));
  let id = '';
  const visible = new Promise<number>((resolve) => {
    const poll = setInterval(() => {
      const fresh = core.services.approvals.pending().find((approval) => !before.has(approval.id));
      if (!fresh) return;
      clearInterval(poll);
      id = fresh.id;
      seen.set(id, resolve);
    }, 1);
  });
  const done = core.nextChatDone();
  const sent = await core.backend.invoke('chat.send', { text: `Run echo ${index}` });
  if (!sent.ok) throw new Error(`chat.send failed: ${sent.message}`);
  const shownAt = await Promise.race([visible, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('the card never appeared')), 10_000))]);
  const elapsed = shownAt - (created.get(id) ?? Number.NaN);
  await core.backend.invoke('approvals.decide', { id, decision: 'deny' });
  await done;
  return elapsed;
}

try {
  for (let i = 0; i < WARMUP; i++) await once(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await once(i));
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] as number;
  const round = (value: number) => Math.round(value * 10) / 10;
  const kb = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;
  console.log(
    JSON.stringify({
      benchmark: 'ui',
      description: 'gate creates an approval → its card painted in the popover (real core, built renderer, headless Chromium); popover JS gzipped',
      runs: RUNS,
      approvalToCardMedianMs: round(at(0.5)),
      approvalToCardP90Ms: round(at(0.9)),
      approvalToCardMinMs: round(sorted[0] as number),
      approvalToCardMaxMs: round(sorted.at(-1) as number),
      targetMs: 100,
      popoverJsGzipKB: kb(build.popover.gzipBytes),
      popoverJsKB: kb(build.popover.bytes),
      targetKB: 250,
      settingsJsGzipKB: kb(build.settings.gzipBytes),
      node: process.version,
      chromium: browser.version(),
    }),
  );
} finally {
  await view.close();
  await browser.close();
  await core.close();
  removeBuild(build.outDir);
}
