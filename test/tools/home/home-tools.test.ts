import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../../main/common/config-schema.js';
import { isEverydayDevice, isHighRiskDevice, type Effect } from '../../../main/common/effects.js';
import { OWNER, type Message } from '../../../main/common/messages.js';
import { decide } from '../../../main/permissions/policy.js';
import { analyzeTurn, originsOf } from '../../../main/permissions/provenance.js';
import { HomeAssistantClient } from '../../../main/tools/home/home-assistant.js';
import { createHomeTools } from '../../../main/tools/home/home-tools.js';
import type { Tool } from '../../../main/tools/tool.js';
import { homeEntities, startFakeHomeAssistant, type FakeHomeAssistant } from '../../fakes/fake-home-assistant.js';
import { MemorySecretStore } from '../../helpers/memory-secret-store.js';
import { registryOf } from '../../helpers/tool-source.js';

const TOKEN = 'ha-test-token-not-secret';
let fake: FakeHomeAssistant;
let tools: Map<string, Tool>;

beforeAll(async () => {
  fake = await startFakeHomeAssistant(TOKEN, homeEntities());
  const secrets = new MemorySecretStore();
  await secrets.set('home-assistant', TOKEN);
  tools = new Map(createHomeTools({ assistant: new HomeAssistantClient(fake.url, secrets), shortcuts: ['Good night'], platform: 'darwin' }).map((tool) => [tool.name, tool]));
});
afterAll(() => fake.close());

async function call(name: string, raw: unknown): Promise<{ content: string; isError: boolean }> {
  const tool = tools.get(name)!;
  const parsed = tool.input.safeParse(raw);
  if (!parsed.success) throw new Error(`schema rejected: ${parsed.error.message}`);
  const output = await tool.execute(parsed.data, { sessionId: 's', callId: 'c', signal: new AbortController().signal });
  return typeof output === 'string' ? { content: output, isError: false } : { content: output.content, isError: output.isError === true };
}

describe('home config', () => {
  it('allows http only on this machine or the home network', () => {
    expect(ConfigSchema.parse({ home: { assistant: { url: 'http://homeassistant.local:8123' } } }).home.assistant?.url).toBe('http://homeassistant.local:8123');
    expect(ConfigSchema.safeParse({ home: { assistant: { url: 'http://192.168.1.20:8123' } } }).success).toBe(true);
    const bad = ConfigSchema.safeParse({ home: { assistant: { url: 'http://ha.example.com:8123' } } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toContain('use https');
  });
});

describe('device risk', () => {
  it.each([
    ['light.kitchen', false, true],
    ['media_player.speaker', false, true],
    ['lock.front', true, false],
    ['alarm_control_panel.home', true, false],
    ['camera.porch', true, false],
    ['cover.garage', true, false],
    ['switch.back_door_opener', true, false],
    ['light.garage_door_light', true, false],
    ['switch.heater', false, false],
  ])('%s: always asks %s, everyday %s', (entity, high, everyday) => {
    expect(isHighRiskDevice(entity)).toBe(high);
    expect(isEverydayDevice(entity)).toBe(everyday);
  });

  const owner = (content: string): Message => ({ role: 'user', content, provenance: OWNER, timestamp: 0 });
  const verdict = (context: Message[], effect: Effect, grants: { kind: 'control_device'; target: string }[] = []) =>
    decide({
      effect,
      effectIndex: 0,
      provenance: { ...analyzeTurn(context, new Set()), argOrigins: originsOf(context, {}, [effect]) },
      knownRecipient: true,
      carriesSecret: false,
      grants: grants.map((grant, index) => ({ ...grant, id: String(index), expiresAt: 10_000 })),
      config: { alwaysAsk: [], deny: [] },
      paused: false,
      now: 1000,
    });
  const control = (entity: string, action = 'light.turn_off'): Effect => ({ kind: 'control_device', entity, action });

  it('lights the owner named run; others ask; locks and doors always ask high and are never granted', () => {
    expect(verdict([owner('turn off light.kitchen')], control('light.kitchen'))).toMatchObject({ decision: 'allow' });
    expect(verdict([owner('turn off the lights')], control('light.kitchen'))).toMatchObject({ decision: 'ask', risk: 'low', grantable: true });
    expect(verdict([owner('turn off the lights')], control('light.kitchen'), [{ kind: 'control_device', target: 'light.kitchen' }])).toMatchObject({ decision: 'allow' });
    const lock = verdict([owner('unlock lock.front_door')], control('lock.front_door', 'lock.unlock'), [{ kind: 'control_device', target: 'lock.front_door' }]);
    expect(lock).toMatchObject({ decision: 'ask', risk: 'high', grantable: false });
    expect(verdict([owner('turn on switch.heater')], control('switch.heater', 'switch.turn_on'))).toMatchObject({ decision: 'ask', grantable: false });
  });
});

describe('home tools against a fake Home Assistant', () => {
  it('declare control_device for services and shortcuts', async () => {
    const registry = await registryOf(...tools.values());
    expect(registry.get('call_service')!.descriptor.effects.map((effect) => effect.kind)).toEqual(['control_device']);
    expect(registry.evaluate(registry.get('run_shortcut')!, { name: 'Good night' }).effects).toEqual([{ kind: 'control_device', entity: 'shortcut.Good night', action: 'shortcuts run' }]);
  });

  it('list_devices shows ids and enumerated states only, never names or free-text states', async () => {
    const listing = await call('list_devices', {});
    expect(listing.content).toContain('light.kitchen: on');
    expect(listing.content).toContain('lock.front_door: locked');
    expect(listing.content).toContain('sensor.note');
    expect(listing.content).not.toContain('Ignore previous');
    expect(listing.content).not.toContain('Kitchen');
    expect((await call('list_devices', { domain: 'light' })).content).toBe('light.kitchen: on\nlight.living_room: on');
  });

  it('get_state gives the attributes; call_service calls the documented endpoint with the entity', async () => {
    expect((await call('get_state', { entity: 'light.kitchen' })).content).toContain('"friendly_name":"Kitchen"');
    expect((await call('get_state', { entity: 'light.nowhere' })).content).toBe('Home Assistant has no entity light.nowhere.');
    expect((await call('call_service', { domain: 'light', service: 'turn_off', entity: 'light.kitchen', data: { transition: 2 } })).content).toBe('Called light.turn_off on light.kitchen.');
    expect(fake.calls.at(-1)).toEqual({ domain: 'light', service: 'turn_off', data: { transition: 2, entity_id: 'light.kitchen' } });
    expect((await call('call_service', { domain: 'lock', service: 'unlock', entity: 'light.kitchen' })).isError).toBe(true);
  });

  it('a wrong or missing token says how to store one', async () => {
    const wrong = new MemorySecretStore();
    await wrong.set('home-assistant', 'nope');
    const [list] = createHomeTools({ assistant: new HomeAssistantClient(fake.url, wrong), shortcuts: [], platform: 'linux' });
    const output = await list!.execute({}, { sessionId: 's', callId: 'c', signal: new AbortController().signal });
    expect(typeof output === 'string' ? output : output.content).toContain('pavise secrets set home-assistant');
  });

  it('a Home Assistant that is down is named, with why and what to check', async () => {
    const secrets = new MemorySecretStore();
    await secrets.set('home-assistant', TOKEN);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const [list] = createHomeTools({ assistant: new HomeAssistantClient(url, secrets), shortcuts: [], platform: 'linux' });
    const output = await list!.execute({}, { sessionId: 's', callId: 'c', signal: new AbortController().signal });
    const text = typeof output === 'string' ? output : output.content;
    expect(text).toContain(`Home Assistant at ${url} did not answer (connection refused)`);
    expect(text).toContain('home.assistant.url');
    expect(text).not.toContain('fetch failed');
  });

  it('run_shortcut runs only listed shortcuts, and only on macOS', async () => {
    expect((await call('run_shortcut', { name: 'Open garage' })).content).toContain('not one of the shortcuts the owner listed');
    expect(createHomeTools({ shortcuts: ['Good night'], platform: 'linux' })).toEqual([]);
  });
});
