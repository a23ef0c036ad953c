import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sandboxSupport } from '../../main/platform/sandbox/sandbox.js';
import { startFakeOpenMeteo, type FakeOpenMeteo } from '../fakes/fake-open-meteo.js';
import { ask } from '../helpers/ask.js';
import { call, ScriptedProvider, text } from '../helpers/scripted-provider.js';
import { FIRST_PARTY_SKILLS, skillHome, type SkillHome } from '../helpers/skills.js';

/** The first-party skills, installed from skills/ exactly as a user's skill is, run under real bwrap. */
const boxed = sandboxSupport().ok;
let meteo: FakeOpenMeteo;
let home: SkillHome;

beforeAll(async () => {
  meteo = await startFakeOpenMeteo();
});
afterAll(() => meteo.close());
afterEach(() => home?.cleanup());

describe.runIf(boxed)('the weather skill', () => {
  it('answers through the gate: the owner approves the network effect, the broker reaches only Open-Meteo, the output is labelled with the skill', async () => {
    home = skillHome();
    await home.install(join(FIRST_PARTY_SKILLS, 'weather'));
    const provider = new ScriptedProvider([() => ({ content: [call('c1', 'weather__forecast', { latitude: 52.52, longitude: 13.41, days: 2 })] }), () => ({ content: [text('Rainy, 4 °C.')] })]);
    const core = await home.open({ transport: meteo.transport, provider });
    const approvals: string[] = [];
    core.events.on('approval', (approval) => {
      approvals.push(approval.title);
      core.gate.decide(approval.id, 'approve', 'terminal');
    });
    try {
      const outcome = await ask(core, core.sessions.current('local', true), "What's the weather at 52.52, 13.41?");
      expect(outcome.error).toBeUndefined();
      expect(approvals).toEqual(['Look up the weather at 52.52, 13.41 on api.open-meteo.com']);
      const result = outcome.messages.find((message) => message.role === 'toolResult');
      expect(result).toMatchObject({ isError: false, provenance: { kind: 'untrusted', source: 'tool_output', detail: 'skill weather' } });
      expect(result?.role === 'toolResult' && result.content).toContain('Now: 4.2 °C, light rain');
      expect(result?.role === 'toolResult' && result.content).toContain('2026-12-03: 0–6 °C, overcast, rain 70%.');
      expect(meteo.requests.at(-1)?.url).toMatch(/^\/v1\/forecast\?latitude=52\.52&longitude=13\.41&/);
      const effects = core.activity.list({ since: 0, limit: 50 }).filter((row) => row.kind === 'effect');
      expect(effects.map((row) => [row.tool, row.decision])).toEqual([['weather__forecast', 'done']]);
    } finally {
      core.close();
    }
  });

  it('is not offered at all until installed, although skills/weather exists on disk', async () => {
    home = skillHome();
    const core = await home.open({ transport: meteo.transport });
    try {
      expect(core.tools.list().map((tool) => tool.name).filter((name) => name.includes('__'))).toEqual([]);
    } finally {
      core.close();
    }
  });

  it('fails with a clear error, and makes no request, when the owner granted it no network', async () => {
    home = skillHome();
    await home.install(join(FIRST_PARTY_SKILLS, 'weather'), { network: [], files: [], secrets: [], binaries: [] });
    const before = meteo.requests.length;
    const provider = new ScriptedProvider([() => ({ content: [call('c1', 'weather__forecast', { latitude: 1, longitude: 2 })] }), () => ({ content: [text('no')] })]);
    const core = await home.open({ transport: meteo.transport, provider });
    core.events.on('approval', (approval) => core.gate.decide(approval.id, 'approve', 'terminal'));
    try {
      const outcome = await ask(core, core.sessions.current('local', true), 'weather at 1, 2');
      const result = outcome.messages.find((message) => message.role === 'toolResult');
      expect(result).toMatchObject({ isError: true });
      expect(result?.role === 'toolResult' && result.content).toMatch(/api\.open-meteo\.com is not a host the owner granted to skill weather/);
      expect(meteo.requests.length).toBe(before);
      const refused = core.activity.list({ since: 0, limit: 50 }).filter((row) => row.actor === 'skill:weather' && row.decision === 'deny');
      expect(refused).toHaveLength(1);
    } finally {
      core.close();
    }
  });
});

describe('the daily-brief skill (instructions only)', () => {
  it('hands its text to the model labelled as third-party, naming the skill', async () => {
    home = skillHome();
    await home.install(join(FIRST_PARTY_SKILLS, 'daily-brief'));
    const provider = new ScriptedProvider([() => ({ content: [call('c1', 'daily_brief__instructions', {})] }), () => ({ content: [text('ok')] })]);
    const core = await home.open({ provider });
    try {
      const outcome = await ask(core, core.sessions.current('local', true), 'my brief please');
      const result = outcome.messages.find((message) => message.role === 'toolResult');
      expect(result).toMatchObject({ isError: false, provenance: { kind: 'untrusted', source: 'file', detail: 'skill daily-brief (third-party instructions)' } });
      expect(result?.role === 'toolResult' && result.content).toContain('Keep it under ten lines.');
    } finally {
      core.close();
    }
  });
});
