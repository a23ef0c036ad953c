import { describe, expect, it } from 'vitest';
import type { ProviderErrorCode } from '../../main/common/messages.js';
import { ModelWaits } from '../../main/gateway/model-waits.js';
import { ModelOutage } from '../../main/runtime/model-outage.js';
import type { TurnOutcome } from '../../main/runtime/turn-runner.js';

/** The retry wait of an unreachable model, seen from several conversations' turns at once. */

const RETRY = { firstMs: 30_000, maxMs: 10 * 60_000 };

function waits(clock: { now: number }): ModelWaits {
  return new ModelWaits({
    config: { channels: { imessage: { maxAgeMinutes: 60 }, telegram: { maxAgeMinutes: 60 } } } as never,
    channels: { setStatus: () => undefined, waitingForModel: () => [] },
    outbox: { enqueue: () => ({}) as never },
    activity: { append: () => ({}) as never },
    events: { emit: () => undefined },
    broker: { redact: (text: string) => text },
    now: () => clock.now,
    log: () => undefined,
    queued: () => undefined,
    outage: outage(clock),
  });
}

function outage(clock: { now: number }): ModelOutage {
  return new ModelOutage({ activity: { append: () => ({}) as never }, events: { emit: () => undefined }, broker: { redact: (text: string) => text }, now: () => clock.now, log: () => undefined, retry: RETRY });
}

/** The turn's call, as the gateway takes it (false: the message waits without calling the model). */
function claim(model: ModelWaits): 'up' | 'try' {
  const call = model.mayCall();
  if (!call) throw new Error('expected the model to be callable');
  return call;
}

const failed = (code: ProviderErrorCode): TurnOutcome =>
  ({ reply: '', messages: [], stopReason: 'error', usage: {} as never, error: { code, message: `${code}` }, unanswered: true }) as unknown as TurnOutcome;

describe('ModelWaits: turns that were already running when the model went away', () => {
  it('several chats failing at once wait the first interval, not one doubled per chat', () => {
    const clock = { now: 1_000_000 };
    const model = waits(clock);
    // Four conversations' turns start while the model answers; the outage fails all four.
    const calls = [claim(model), claim(model), claim(model), claim(model)];
    for (const call of calls) model.tried(failed('overloaded'), call);
    expect(model.due()).toBe(false);
    clock.now += RETRY.firstMs;
    // README: "tried again after 30 s, then twice as long each time": 30 s here, not 4 minutes.
    expect(model.due()).toBe(true);
    expect(model.mayCall()).toBe('try');
  });

  it('a turn that started before the outage does not free the one try while it runs', () => {
    const clock = { now: 1_000_000 };
    const model = waits(clock);
    const early = claim(model);
    const first = claim(model);
    model.tried(failed('network'), first);
    clock.now += RETRY.firstMs;
    const claimed = claim(model);
    expect(claimed).toBe('try');
    // The early turn fails now, while the claimed try is still running: no second try may start beside it.
    model.tried(failed('network'), early);
    expect(model.mayCall()).toBe(false);
    // The claimed try fails: the wait doubles.
    model.tried(failed('network'), claimed);
    clock.now += RETRY.firstMs;
    expect(model.due()).toBe(false);
    clock.now += RETRY.firstMs;
    expect(model.due()).toBe(true);
  });
});

describe('ModelWaits: an account out of credit', () => {
  it('is tried again only after the longest wait, or at once when the owner writes; an answer ends it', () => {
    const clock = { now: 1_000_000 };
    const model = waits(clock);
    model.tried(failed('quota'), claim(model));
    clock.now += RETRY.firstMs;
    // Not the 30 s of a passing outage: no timer fixes an empty balance.
    expect(model.due()).toBe(false);
    expect(model.mayCall()).toBe(false);
    // The owner writes (they may have added credit): that message is the try.
    const owners = model.mayCall(true);
    expect(owners).toBe('try');
    expect(model.mayCall(true)).toBe(false);
    model.tried(failed('quota'), owners as 'try');
    clock.now += RETRY.maxMs - 1;
    expect(model.due()).toBe(false);
    clock.now += 1;
    expect(model.due()).toBe(true);
    const probe = claim(model);
    model.tried({ reply: 'ok', messages: [], stopReason: 'stop' } as unknown as TurnOutcome, probe);
    expect(model.mayCall()).toBe('up');
  });
});

describe('ModelWaits: a group whose owner writes while a contact’s message waits', () => {
  const at = Date.UTC(2026, 11, 3, 12);
  const message = (id: number, sender: string, role: 'owner' | 'contact') =>
    ({ id, channel: 'imessage', conversationId: 'iMessage;+;chat77', sender, text: `m${id}`, isGroup: true, sentAt: at, status: 'waiting_model', role }) as never;

  it('answers the contact’s waiting message first, in a turn run as the contact’s; the owner’s keeps its own role', () => {
    const statuses: [number, string, string | undefined][] = [];
    const contactWaiting = message(1, '+15550002222', 'contact');
    const model = new ModelWaits({
      config: { channels: { imessage: { maxAgeMinutes: 60 }, telegram: { maxAgeMinutes: 60 } } } as never,
      channels: { setStatus: (id: number, status: string, role?: string) => void statuses.push([id, status, role]), waitingForModel: () => [contactWaiting] },
      outbox: { enqueue: () => ({}) as never },
      activity: { append: () => ({}) as never },
      events: { emit: () => undefined },
      broker: { redact: (text: string) => text },
      now: () => at,
      log: () => undefined,
      queued: () => undefined,
      outage: outage({ now: at }),
    });
    const fromOwner = message(2, '+15550001111', 'owner');
    const label = (_: unknown, role: 'owner' | 'contact') => role;
    expect(model.batchOf(fromOwner, 'owner', label)).toEqual({ batch: [contactWaiting], role: 'contact' });

    // Still unreachable: each waits again under its own sender's role.
    expect(model.settle(failed('overloaded'), [contactWaiting], 'contact', fromOwner, 'owner')).toBe(false);
    expect(statuses).toEqual([
      [1, 'waiting_model', 'contact'],
      [2, 'waiting_model', 'owner'],
    ]);
  });
});
