import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../main/compose.js';
import { sandboxSupport } from '../../main/platform/sandbox/sandbox.js';
import { assemble } from '../../main/scheduler/briefing.js';
import { NO_CALENDAR } from '../../main/scheduler/sources.js';
import type { Job } from '../../main/storage/job-store.js';
import { startFakeOpenMeteo, type FakeOpenMeteo } from '../fakes/fake-open-meteo.js';
import { FIRST_PARTY_SKILLS, skillHome, type SkillHome } from '../helpers/skills.js';

/**
 * The briefing's weather line comes from the first-party weather skill, installed as a user installs it and run for
 * real under bwrap; its request leaves through the broker to the fake Open-Meteo, the only host granted to it.
 */
const boxed = sandboxSupport().ok;
const NOW = Date.parse('2026-12-03T07:30:00Z');
const BERLIN = { latitude: 52.52, longitude: 13.41 };

let meteo: FakeOpenMeteo;
let home: SkillHome;
const open: Core[] = [];
beforeAll(async () => {
  meteo = await startFakeOpenMeteo();
});
afterAll(() => meteo.close());
afterEach(() => {
  for (const core of open.splice(0)) core.close();
  home?.cleanup();
});

async function coreWith(weather: typeof BERLIN | undefined, install: boolean): Promise<Core> {
  home = skillHome();
  writeFileSync(join(home.home, 'config.json'), JSON.stringify({ schedule: { timeZone: 'Europe/Berlin', briefing: { enabled: true, times: { thu: '08:30' }, ...(weather ? { weather } : {}) } } }));
  if (install) await home.install(join(FIRST_PARTY_SKILLS, 'weather'));
  const core = await home.open({ transport: meteo.transport });
  open.push(core);
  return core;
}

function briefingFacts(core: Core) {
  const job = { id: 1, kind: 'briefing', title: 'Morning briefing', payload: {}, timeZone: 'Europe/Berlin', provenance: { kind: 'owner' } } as unknown as Job;
  return assemble(job, NOW, { jobs: core.jobs, calendar: NO_CALENDAR, weather: core.scheduleSources.weather, important: () => [], maxTokens: () => 600, now: () => NOW }, new AbortController().signal);
}

describe.runIf(boxed)("the briefing's weather line", () => {
  it('comes from the installed weather skill through the gate and the broker, labelled as the skill\'s output, asking nothing', async () => {
    const core = await coreWith(BERLIN, true);
    const approvals: string[] = [];
    core.events.on('approval', (approval) => approvals.push(approval.title));
    const before = meteo.requests.length;
    const { facts, provenance } = await briefingFacts(core);
    expect(facts).toContain('• Weather: Now: 4.2 °C, light rain, wind 13.7 km/h. 2026-12-02: -1–5 °C, overcast, rain 80%.');
    expect(provenance).toEqual({ kind: 'untrusted', source: 'tool_output', detail: 'skill weather' });
    expect(meteo.requests.length).toBe(before + 1);
    expect(meteo.requests.at(-1)?.url).toMatch(/^\/v1\/forecast\?latitude=52\.52&longitude=13\.41&.*forecast_days=1/);
    // The owner turned it on in config: a standing request of theirs, not a question at 7:30 in the morning.
    expect(approvals).toEqual([]);
    const effects = core.activity.list({ since: 0, limit: 50 }).filter((row) => row.kind === 'effect');
    expect(effects.map((row) => [row.tool, row.decision])).toEqual([['weather__forecast', 'done']]);
  }, 60_000);

  it('is absent, with no error and no request, when the skill is not installed', async () => {
    const core = await coreWith(BERLIN, false);
    const before = meteo.requests.length;
    expect(await core.scheduleSources.weather.today(new AbortController().signal)).toBeUndefined();
    const { facts, provenance } = await briefingFacts(core);
    expect(facts).not.toMatch(/weather/i);
    expect(provenance).toEqual({ kind: 'owner' });
    expect(meteo.requests.length).toBe(before);
  }, 60_000);

  it('is absent when the skill is disabled, or no place is configured', async () => {
    const disabled = await coreWith(BERLIN, true);
    expect(disabled.skills.setEnabled('weather', false)).toEqual({ ok: true });
    const before = meteo.requests.length;
    expect(await disabled.scheduleSources.weather.today(new AbortController().signal)).toBeUndefined();
    disabled.close();
    open.splice(0);
    home.cleanup();

    const nowhere = await coreWith(undefined, true);
    expect(await nowhere.scheduleSources.weather.today(new AbortController().signal)).toBeUndefined();
    expect(meteo.requests.length).toBe(before);
  }, 60_000);

  it('says what to do, asking nothing and reaching nothing, when its host was not granted; the rest of the briefing still goes', async () => {
    home = skillHome();
    writeFileSync(join(home.home, 'config.json'), JSON.stringify({ schedule: { briefing: { weather: BERLIN } } }));
    await home.install(join(FIRST_PARTY_SKILLS, 'weather'), { network: [], files: [], secrets: [], binaries: [] });
    const core = await home.open({ transport: meteo.transport });
    open.push(core);
    const approvals: string[] = [];
    core.events.on('approval', (approval) => approvals.push(approval.title));
    const before = meteo.requests.length;
    const { facts } = await briefingFacts(core);
    expect(facts).toContain('• No events today.');
    expect(facts).toContain('• The weather skill did not answer: it may not reach api.open-meteo.com; review its permissions in Settings › Skills');
    expect(meteo.requests.length).toBe(before);
    expect(approvals).toEqual([]);
  }, 60_000);
});
