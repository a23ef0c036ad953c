import { afterEach, describe, expect, it } from 'vitest';
import { EFFECT_KINDS } from '../../main/common/effects.js';
import { compose, type Core } from '../../main/compose.js';
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
  it('declares known effects and an output label', async () => {
    const { env, cleanup } = tempHome();
    const services = await compose({ env, secrets: new MemorySecretStore() });
    open.push({ services, cleanup });
    const tools = services.tools.list();
    expect(tools.length).toBeGreaterThanOrEqual(6);
    for (const tool of tools) {
      expect(Array.isArray(tool.descriptor.effects), `${tool.name} declares effects`).toBe(true);
      for (const effect of tool.descriptor.effects) expect(EFFECT_KINDS, `${tool.name}: ${effect.kind}`).toContain(effect.kind);
      expect(['trigger', 'untrusted', 'per-result'], `${tool.name} labels its output`).toContain(tool.descriptor.output.kind);
    }
    // The effectful ones go through the gate with concrete effects, evaluated by the host from their descriptors.
    const effectsFor = (name: string, input: unknown) => services.tools.evaluate(services.tools.get(name)!, input).effects;
    expect(effectsFor('send_message', { channel: 'imessage', to: '+15550001111', text: 'hi' })).toEqual([
      { kind: 'send_message', channel: 'imessage', recipient: '+15550001111', text: 'hi' },
    ]);
    expect(effectsFor('save_note', { text: 'x' })).toEqual([{ kind: 'write_local', what: 'Save a note: "x"' }]);
    expect(effectsFor('current_time', {})).toEqual([]);
    expect(services.tools.get('read_messages')?.descriptor.output).toEqual({ kind: 'per-result' });
  });

  it('contacts get only tools without effects', async () => {
    const { env, cleanup } = tempHome();
    const services = await compose({ env, secrets: new MemorySecretStore() });
    open.push({ services, cleanup });
    expect(services.contactTools.list().map((tool) => tool.name)).toEqual(['current_time']);
  });
});
