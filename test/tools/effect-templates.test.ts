import { describe, expect, it } from 'vitest';
import { checkDescriptor, evaluateEffects, labelOutput, summarize, type EffectHost } from '../../main/tools/effect-templates.js';
import { validateJson } from '../../main/tools/json-schema.js';
import { ToolRegistry } from '../../main/tools/registry.js';
import type { ToolDescriptor, ToolSource } from '../../main/tools/source.js';

const send: ToolDescriptor = {
  name: 'send_message',
  description: 'Send a message.',
  inputSchema: {
    type: 'object',
    properties: { channel: { type: 'string', enum: ['imessage', 'telegram'] }, to: { type: 'string' }, text: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } }, count: { type: 'integer' } },
    required: ['channel', 'to', 'text'],
  },
  effects: [{ kind: 'send_message', channel: { arg: 'channel' }, recipient: { arg: 'to' }, text: { arg: 'text' } }],
  summary: 'Send {channel|channel_name} to {to|recipient}: "{text}"[ tagged {tags}]',
  output: { kind: 'trigger' },
};

const withChanges = (changes: Partial<ToolDescriptor>): ToolDescriptor => ({ ...send, ...changes });
const refused = (descriptor: ToolDescriptor): string => {
  try {
    checkDescriptor(descriptor, 'skill-x');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${descriptor.name} was accepted`);
};

describe('an effect repeated over a list (eachOf)', () => {
  const fanOut = withChanges({ effects: [{ kind: 'send_message', channel: { arg: 'channel' }, recipient: { eachOf: 'tags' }, text: { arg: 'text' } }] });

  it('gives one effect per item, none for an optional list left out, and refuses a required empty list', () => {
    expect(() => checkDescriptor(fanOut, 'builtin')).not.toThrow();
    const effects = evaluateEffects(fanOut, { channel: 'telegram', to: 'x', text: 'hi', tags: ['1', '2'] });
    expect(effects).toEqual([
      { kind: 'send_message', channel: 'telegram', recipient: '1', text: 'hi' },
      { kind: 'send_message', channel: 'telegram', recipient: '2', text: 'hi' },
    ]);
    expect(evaluateEffects(fanOut, { channel: 'telegram', to: 'x', text: 'hi' })).toEqual([]);
    const required = withChanges({ ...fanOut, inputSchema: { ...send.inputSchema, required: ['channel', 'to', 'text', 'tags'] } });
    expect(() => evaluateEffects(required, { channel: 'telegram', to: 'x', text: 'hi', tags: [] })).toThrow(/non-empty list/);
  });

  it('refuses eachOf over something that is not a list of strings, and two lists in one effect', () => {
    expect(refused(withChanges({ effects: [{ kind: 'send_message', channel: { arg: 'channel' }, recipient: { eachOf: 'to' }, text: { arg: 'text' } }] }))).toContain(
      'not a list of strings',
    );
    expect(
      refused(withChanges({ effects: [{ kind: 'send_message', channel: { eachOf: 'tags' }, recipient: { eachOf: 'tags' }, text: { arg: 'text' } }] })),
    ).toContain('one list only');
  });
});

describe('checking descriptors at registration', () => {
  it('accepts a well-formed descriptor', () => {
    expect(() => checkDescriptor(send, 'builtin')).not.toThrow();
  });

  it('refuses a template naming an argument the schema does not have', () => {
    const message = refused(withChanges({ effects: [{ kind: 'send_message', channel: { arg: 'channel' }, recipient: { arg: 'recipient' }, text: { arg: 'text' } }] }));
    expect(message).toBe('Tool "send_message" from source "skill-x" is refused: the send_message effect\'s recipient names the argument "recipient", which its inputSchema does not have.');
    expect(refused(withChanges({ effects: [{ kind: 'read_private', what: { template: 'Read {folder}' } }] }))).toContain('names "{folder}"');
    expect(refused(withChanges({ summary: 'Send to {someone}' }))).toContain('its summary names "{someone}"');
  });

  it('refuses an argument of the wrong type for the effect field', () => {
    expect(refused(withChanges({ effects: [{ kind: 'spend', amountUsd: { arg: 'text' }, what: { arg: 'text' } }] }))).toContain(
      'the spend effect\'s amountUsd needs a number but the argument "text" is a string',
    );
    expect(refused(withChanges({ effects: [{ kind: 'execute', argv: { arg: 'to' } }] }))).toContain('needs a string[]');
  });

  it('refuses a required effect field fed by an optional argument, a missing field, an unknown field or kind', () => {
    expect(refused(withChanges({ effects: [{ kind: 'delete', target: { arg: 'tags' } }] }))).toContain('needs a string');
    expect(refused(withChanges({ effects: [{ kind: 'execute', argv: { arg: 'tags' } }] }))).toContain('is optional in the inputSchema');
    expect(refused(withChanges({ effects: [{ kind: 'delete' } as never] }))).toContain("the delete effect's target is missing");
    expect(refused(withChanges({ effects: [{ kind: 'delete', target: { arg: 'to' }, force: { arg: 'to' } } as never] }))).toContain('has no field "force"');
    expect(refused(withChanges({ effects: [{ kind: 'launch_missiles' } as never] }))).toContain('is not an effect kind');
  });

  it('refuses a descriptor without an effects declaration or without an output label', () => {
    expect(refused(withChanges({ effects: undefined as never }))).toContain('declares no effects');
    const { output: _output, ...unlabelled } = send;
    expect(refused(unlabelled as ToolDescriptor)).toContain('declares no output label');
    expect(refused(withChanges({ output: { kind: 'owner' } as never }))).toContain('is not an output label');
    expect(refused(withChanges({ output: { kind: 'untrusted' } as never }))).toContain('needs a source');
  });

  it('refuses a source whose JSON Schema uses keywords the host cannot check, and duplicate names', async () => {
    const source = (descriptors: ToolDescriptor[], id = 'skill-x'): ToolSource => ({ id, list: async () => descriptors, call: async () => ({ content: '' }) });
    const oneOf = withChanges({ inputSchema: { ...send.inputSchema, oneOf: [] } });
    await expect(ToolRegistry.load([source([oneOf])])).rejects.toThrow('its inputSchema uses #/oneOf');
    await expect(ToolRegistry.load([source([send]), source([send], 'skill-y')])).rejects.toThrow('registered twice (sources "skill-x" and "skill-y")');
  });
});

describe('evaluating templates against a call', () => {
  const host: EffectHost = { resolveRecipient: (_channel, to) => (to === 'Sam' ? { recipient: 'iMessage;-;+15550009999', name: 'Sam Lee' } : undefined) };

  it('fills each field from the named argument, and the host resolves a recipient', () => {
    expect(evaluateEffects(send, { channel: 'imessage', to: ' Sam ', text: 'hi' }, host)).toEqual([
      { kind: 'send_message', channel: 'imessage', recipient: 'iMessage;-;+15550009999', text: 'hi', via: 'Sam', name: 'Sam Lee' },
    ]);
    expect(evaluateEffects(send, { channel: 'telegram', to: '42', text: 'hi' }, host)).toEqual([{ kind: 'send_message', channel: 'telegram', recipient: '42', text: 'hi' }]);
  });

  it('refuses at call time an argument of the wrong type or a missing one (the gate denies)', () => {
    expect(() => evaluateEffects(send, { channel: 'imessage', to: 42, text: 'hi' })).toThrow("send_message: the send_message effect's recipient must be a string.");
    expect(() => evaluateEffects(send, { channel: 'imessage', text: 'hi' })).toThrow('recipient has no value in this call');
    expect(() => evaluateEffects(send, 'not an object')).toThrow('the arguments must be an object');
  });

  it('evaluates text templates with optional segments and host names of URLs', () => {
    const fetch: ToolDescriptor = {
      ...send,
      inputSchema: { type: 'object', properties: { url: { type: 'string' }, note: { type: 'string' } }, required: ['url'] },
      effects: [{ kind: 'network', host: { hostOf: 'url' }, url: { arg: 'url' }, method: { template: 'GET[ ({note})]' } }],
      summary: 'Fetch {url}',
    };
    expect(evaluateEffects(fetch, { url: 'https://example.com/a?b=1' })).toEqual([{ kind: 'network', host: 'example.com', url: 'https://example.com/a?b=1', method: 'GET' }]);
    expect(evaluateEffects(fetch, { url: 'not a url', note: 'x' })).toEqual([{ kind: 'network', host: '', url: 'not a url', method: 'GET (x)' }]);
  });

  it('writes the approval line from the summary and the evaluated effects', () => {
    const input = { channel: 'imessage', to: 'Sam', text: 'On my way', tags: ['a', 'b'] };
    expect(summarize(send, input, evaluateEffects(send, input, host))).toBe('Send iMessage to Sam (iMessage;-;+15550009999): "On my way" tagged a, b');
    const plain = { channel: 'telegram', to: '42', text: 'hi' };
    expect(summarize(send, plain, evaluateEffects(send, plain, host))).toBe('Send Telegram message to 42: "hi"');
    const alternatives = withChanges({ summary: ['Count {count}', 'No count'] });
    expect(summarize(alternatives, { count: 3 }, [])).toBe('Count 3');
    expect(summarize(alternatives, {}, [])).toBe('No count');
  });
});

describe('applying the output label', () => {
  it('gives untrusted tools their declared label, whatever they claim', () => {
    expect(labelOutput({ kind: 'untrusted', source: 'email' }, { content: 'x', provenance: { kind: 'owner' } }, 't')).toEqual({ content: 'x', provenance: { kind: 'untrusted', source: 'email' } });
  });

  it('lets a trigger-labelled tool be weaker than the trigger, never stronger', () => {
    expect(labelOutput({ kind: 'trigger' }, { content: 'x', provenance: { kind: 'owner' } }, 't')).toEqual({ content: 'x' });
    const contact = { kind: 'contact', contactId: 'imessage:+1555' } as const;
    expect(labelOutput({ kind: 'trigger' }, { content: 'x', provenance: contact }, 't')).toEqual({ content: 'x', provenance: contact });
  });

  it('treats a per-result tool whose result carries no label as untrusted', () => {
    expect(labelOutput({ kind: 'per-result' }, { content: 'x' }, 'read_messages')).toEqual({
      content: 'x',
      provenance: { kind: 'untrusted', source: 'tool_output', detail: 'read_messages gave its result no label' },
    });
    expect(labelOutput({ kind: 'per-result' }, { content: 'x', provenance: { kind: 'owner' } }, 't').provenance).toEqual({ kind: 'owner' });
  });
});

describe('JSON Schema validation of other sources', () => {
  it('names each problem and where it is', () => {
    const schema = { type: 'object', properties: { n: { type: 'integer', minimum: 1 }, s: { type: 'string', maxLength: 3 } }, required: ['n'], additionalProperties: false };
    expect(validateJson(schema, { n: 2, s: 'abc' })).toEqual([]);
    expect(validateJson(schema, { n: 0, s: 'abcd', x: 1 })).toEqual(['input.n: at least 1', 'input.s: at most 3 characters', 'input.x: not an argument of this tool']);
    expect(validateJson(schema, { s: 'a' })).toEqual(['input.n: required']);
    expect(validateJson(schema, [])).toEqual(['input: expected object']);
  });
});
