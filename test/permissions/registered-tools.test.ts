import { afterEach, describe, expect, it } from 'vitest';
import { EFFECT_KINDS } from '../../main/common/effects.js';
import { compose, type Core } from '../../main/compose.js';
import { effectsOfCall } from '../../main/tools/tool.js';
import { tempHome } from '../helpers/cli.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';

const open: { services: Core; cleanup: () => void }[] = [];
afterEach(() => {
  for (const { services, cleanup } of open.splice(0)) {
    services.close();
    cleanup();
  }
});

/** Invariant 3's first half: every tool the app registers declares its effects, so the gate can see them. */
describe('every registered tool', () => {
  it('declares known effects, and targeted ones say their targets', async () => {
    const { env, cleanup } = tempHome();
    const services = await compose({ env, secrets: new MemorySecretStore() });
    open.push({ services, cleanup });
    const tools = services.tools.list();
    expect(tools.length).toBeGreaterThanOrEqual(6);
    for (const tool of tools) {
      expect(Array.isArray(tool.effects), `${tool.name} declares effects`).toBe(true);
      for (const kind of tool.effects) expect(EFFECT_KINDS, `${tool.name}: ${kind}`).toContain(kind);
      const targeted = tool.effects.some((kind) => ['send_message', 'execute', 'network', 'spend', 'delete'].includes(kind));
      if (targeted) expect(typeof tool.effectsOf, `${tool.name} says its targets`).toBe('function');
      expect(typeof tool.describe, `${tool.name} describes a call`).toBe('function');
    }
    // The effectful ones go through the gate with concrete effects.
    const send = services.tools.get('send_message');
    expect(effectsOfCall(send!, { channel: 'imessage', to: '+15550001111', text: 'hi' })).toEqual([
      { kind: 'send_message', channel: 'imessage', recipient: '+15550001111', text: 'hi' },
    ]);
    expect(effectsOfCall(services.tools.get('save_note')!, { text: 'x' })).toEqual([{ kind: 'write_local', what: 'Save a note: "x"' }]);
    expect(effectsOfCall(services.tools.get('current_time')!, {})).toEqual([]);
  });

  it('contacts get only tools without effects', async () => {
    const { env, cleanup } = tempHome();
    const services = await compose({ env, secrets: new MemorySecretStore() });
    open.push({ services, cleanup });
    expect(services.contactTools.list().map((tool) => tool.name)).toEqual(['current_time']);
  });
});
