import { describe, expect, it } from 'vitest';
import type { Effect } from '../../main/common/effects.js';
import { OWNER, type Message } from '../../main/common/messages.js';
import { decide } from '../../main/permissions/policy.js';
import { analyzeTurn, originsOf } from '../../main/permissions/provenance.js';

/**
 * Failure 5: a contact called "What Ever" counted as named by the owner because "what" appeared in "what time is
 * it?", and got the owner's notes without a prompt. A recipient is named only by their whole name or handle.
 */
const owner = (content: string): Message => ({ role: 'user', content, provenance: OWNER, timestamp: 0 });
const notes = (content: string): Message => ({
  role: 'toolResult', toolCallId: 'n', toolName: 'list_notes', content, isError: false, provenance: OWNER, timestamp: 0,
});

function verdictFor(context: Message[], effect: Effect, input: unknown) {
  const turn = analyzeTurn(context, new Set(['list_notes']));
  return decide({
    effect, effectIndex: 0, provenance: { ...turn, argOrigins: originsOf(context, input, [effect]) }, knownRecipient: true,
    carriesSecret: false, grants: [], config: { alwaysAsk: [], deny: [] }, paused: false, now: 0,
  });
}

const toContact = (name: string, handle: string, via = name): { effect: Effect; input: unknown } => ({
  effect: { kind: 'send_message', channel: 'imessage', recipient: `iMessage;-;${handle}`, text: 'your notes: bank PIN 4321', via, name },
  input: { channel: 'imessage', to: via, text: 'your notes: bank PIN 4321' },
});

describe('named by the owner: the whole name or handle, never one word of it', () => {
  it.each([
    ['What Ever', 'what time is it?'],
    ['What Ever', 'WHAT is on my calendar, ever?'],
    ['Time Keeper', 'what time is it?'],
    ['Sam Porter', 'list my notes and tell me about sam'],
  ])('"%s" is not named by "%s"', (name, request) => {
    const { effect, input } = toContact(name, '+15550002222');
    const verdict = verdictFor([owner(request), notes('bank PIN 4321')], effect, input);
    expect(verdict.decision).toBe('ask');
    expect(verdict.reason).toContain('You did not name');
  });

  it.each([
    ['What Ever', 'send my notes to What Ever'],
    ['What Ever', 'send my notes to ｗｈａｔ ｅｖｅｒ'],
    ['Sam Porter', 'text sam porter my notes'],
  ])('"%s" is named by "%s"', (name, request) => {
    const { effect, input } = toContact(name, '+15550002222');
    expect(verdictFor([owner(request), notes('bank PIN 4321')], effect, input).decision).toBe('allow');
  });

  it('a number from another country with the same last ten digits is not the one the owner named', () => {
    const effect: Effect = { kind: 'send_message', channel: 'imessage', recipient: '+445550002222', text: 'notes' };
    const verdict = verdictFor([owner('text +1 555 000 2222 my notes'), notes('bank PIN 4321')], effect, { channel: 'imessage', to: '+445550002222', text: 'notes' });
    expect(verdict.decision).toBe('ask');
  });

  it('digits spread over two numbers the owner wrote are not a third number', () => {
    const effect: Effect = { kind: 'send_message', channel: 'imessage', recipient: '+15550002222', text: 'notes' };
    const verdict = verdictFor([owner('my PIN is 555 and the door code is 0002222; what time is it?')], effect, { channel: 'imessage', to: '+15550002222', text: 'notes' });
    expect(verdict.decision).toBe('ask');
  });
});
