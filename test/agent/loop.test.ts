import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runTurn, MissingKeyError, PAUSE_GRACE_MS, PAUSED_MID_ANSWER, STOPPED_BY_PAUSE, type AgentHooks, type TurnOptions } from '../../main/agent/loop.js';
import type { AgentEvent } from '../../main/agent/events.js';
import { OWNER, type Message, type ToolResultMessage } from '../../main/common/messages.js';
import { defineTool } from '../../main/tools/tool.js';
import { registryOf } from '../helpers/tool-source.js';
import { ScriptedProvider, call, text, usage } from '../helpers/scripted-provider.js';

const executed: unknown[] = [];
const add = defineTool({
  name: 'add',
  description: 'Adds two numbers.',
  input: z.object({ a: z.number(), b: z.number() }),
  effects: [],
  summary: 'add {a} and {b}',
  output: { kind: 'trigger' },
  execute: ({ a, b }) => {
    executed.push({ a, b });
    return String(a + b);
  },
});
const explode = defineTool({
  name: 'explode',
  description: 'Always fails.',
  input: z.object({}),
  effects: [{ kind: 'write_local', what: { template: 'explode' } }],
  summary: 'explode',
  output: { kind: 'trigger' },
  execute: () => {
    throw new Error('disk on fire');
  },
});
const slow = defineTool({
  name: 'slow',
  description: 'Waits for the signal.',
  input: z.object({}),
  effects: [],
  summary: 'wait',
  output: { kind: 'trigger' },
  execute: (_input, { signal }) =>
    new Promise<string>((resolve) => signal.addEventListener('abort', () => resolve('interrupted'), { once: true })),
});

/** Ignores its signal: finishes when it pleases, with a result that must not be used once the turn was paused. */
const stubborn = defineTool({
  name: 'stubborn',
  description: 'Finishes in its own time.',
  input: z.object({}),
  effects: [],
  summary: 'wait',
  output: { kind: 'trigger' },
  execute: () => new Promise<string>((resolve) => setTimeout(() => resolve('finished anyway'), PAUSE_GRACE_MS + 3_000).unref()),
});

const tools = await registryOf(add, explode, slow);
const withStubborn = await registryOf(add, explode, slow, stubborn);

/** A pause switch for the loop's watchPause hook: `pause()` aborts the call being watched. */
function pauseSwitch() {
  let controller = new AbortController();
  const watched: string[] = [];
  return {
    watched,
    pause: () => controller.abort(),
    hooks: {
      watchPause: () => {
        controller = new AbortController();
        watched.push('start');
        return { signal: controller.signal, stop: () => watched.push('stop') };
      },
    } satisfies Partial<AgentHooks>,
  };
}

function options(provider: ScriptedProvider, overrides: Partial<TurnOptions> = {}, hooks: Partial<AgentHooks> = {}) {
  const events: AgentEvent[] = [];
  const turn: TurnOptions = {
    sessionId: 's1',
    provider,
    model: 'test-model',
    system: 'You are a test.',
    tools,
    history: [],
    input: { role: 'user', content: 'what is 2+3?', provenance: OWNER, timestamp: 1 },
    limits: { maxSteps: 8, maxTokens: 100_000 },
    maxOutputTokens: 1024,
    hooks: { getApiKey: () => 'key-123', onEvent: (event) => events.push(event), ...hooks },
    ...overrides,
  };
  return { turn, events };
}

const toolResults = (messages: readonly Message[]) =>
  messages.filter((message): message is ToolResultMessage => message.role === 'toolResult');

describe('runTurn', () => {
  it('runs a multi-step tool conversation and reports usage and events', async () => {
    executed.length = 0;
    const provider = new ScriptedProvider([
      () => ({ content: [text('Let me add.'), call('c1', 'add', { a: 2, b: 3 })], usage: usage(100, 20) }),
      (request) => {
        const last = request.messages.at(-1);
        expect(last).toMatchObject({ role: 'toolResult', toolCallId: 'c1', content: '5', isError: false });
        return { content: [text('It is 5.')], usage: usage(130, 5) };
      },
    ]);
    const { turn, events } = options(provider);
    const result = await runTurn(turn);

    expect(result.stopReason).toBe('stop');
    expect(result.reply).toBe('Let me add.\n\nIt is 5.');
    expect(result.usage).toMatchObject({ inputTokens: 230, outputTokens: 25 });
    expect(executed).toEqual([{ a: 2, b: 3 }]);
    expect(result.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'toolResult', 'assistant']);
    expect(provider.requests).toHaveLength(2);
    expect(provider.requests[0]?.apiKey).toBe('key-123');
    expect(provider.requests[0]?.request.tools.map((tool) => tool.name)).toEqual(['add', 'explode', 'slow']);
    expect(provider.requests[0]?.request.tools[0]?.inputSchema).toMatchObject({
      type: 'object',
      properties: { a: { type: 'number' }, b: { type: 'number' } },
      required: ['a', 'b'],
    });
    expect(events.filter((event) => event.type === 'message')).toHaveLength(4);
    expect(events.map((event) => event.type)).toContain('tool_start');
    expect(events.at(-1)).toEqual({ type: 'turn_end', stopReason: 'stop' });
  });

  it('turns unknown tools, invalid arguments and thrown errors into error results the model sees', async () => {
    const provider = new ScriptedProvider([
      () => ({
        content: [
          call('u1', 'rm_rf', { path: '/' }),
          call('u2', 'add', { a: 'two', b: 3 }),
          call('u3', 'explode', {}),
          call('u4', 'constructor', {}),
        ],
      }),
      () => ({ content: [text('Sorry.')] }),
    ]);
    const result = await runTurn(options(provider).turn);
    const results = toolResults(result.messages);
    expect(results.map((message) => message.isError)).toEqual([true, true, true, true]);
    expect(results[0]?.content).toMatch(/^Unknown tool "rm_rf"\. Available tools: add, explode, slow\.$/);
    expect(results[1]?.content).toMatch(/^Invalid arguments for add: a: /);
    expect(results[2]?.content).toBe('explode failed: disk on fire');
    expect(results[3]?.content).toMatch(/^Unknown tool "constructor"/);
    expect(result.stopReason).toBe('stop');
  });

  it('lets beforeToolCall deny a call, and the tool never runs', async () => {
    executed.length = 0;
    const provider = new ScriptedProvider([
      () => ({ content: [call('d1', 'add', { a: 1, b: 1 })] }),
      () => ({ content: [text('Denied, ok.')] }),
    ]);
    const seen: unknown[] = [];
    const { turn } = options(provider, {}, {
      beforeToolCall: (request) => {
        seen.push({ name: request.tool.name, input: request.input, contextLength: request.context.length });
        return { action: 'deny', reason: 'the owner said no' };
      },
    });
    const result = await runTurn(turn);
    expect(executed).toEqual([]);
    expect(seen).toEqual([{ name: 'add', input: { a: 1, b: 1 }, contextLength: 2 }]);
    expect(toolResults(result.messages)[0]).toMatchObject({ isError: true, content: 'Not run: the owner said no' });
  });

  it('stops at the step limit with a clear message', async () => {
    const loop = () => ({ content: [call(`x${Math.random()}`, 'add', { a: 1, b: 2 })] });
    const provider = new ScriptedProvider([loop, loop, loop, loop]);
    const result = await runTurn(options(provider, { limits: { maxSteps: 3, maxTokens: 1e9 } }).turn);
    expect(provider.requests).toHaveLength(3);
    expect(result.stopReason).toBe('error');
    expect(result.error?.code).toBe('limit');
    expect(result.error?.message).toContain('limits.maxStepsPerTurn');
  });

  it('stops at the token limit before the next model call', async () => {
    const provider = new ScriptedProvider([
      () => ({ content: [call('t1', 'add', { a: 1, b: 2 })], usage: usage(900, 200) }),
      () => ({ content: [text('never')] }),
    ]);
    const result = await runTurn(options(provider, { limits: { maxSteps: 10, maxTokens: 1000 } }).turn);
    expect(provider.requests).toHaveLength(1);
    expect(result.error).toMatchObject({ code: 'limit' });
    expect(result.error?.message).toContain('1100 tokens');
  });

  it('stops with missing_key and makes no model call when the key hook throws', async () => {
    const provider = new ScriptedProvider([]);
    const { turn } = options(provider, {}, {
      getApiKey: () => {
        throw new MissingKeyError('No API key for anthropic. Store one with `pavise secrets set anthropic`.');
      },
    });
    const result = await runTurn(turn);
    expect(provider.requests).toHaveLength(0);
    expect(result.error).toEqual({ code: 'missing_key', message: 'No API key for anthropic. Store one with `pavise secrets set anthropic`.' });
    expect(result.messages[0]).toMatchObject({ role: 'user', content: 'what is 2+3?' });
  });

  it('aborts a running tool and closes every open tool call so the history stays valid', async () => {
    const controller = new AbortController();
    const provider = new ScriptedProvider([
      () => {
        setTimeout(() => controller.abort(), 20);
        return { content: [call('s1', 'slow', {}), call('s2', 'add', { a: 1, b: 1 })] };
      },
    ]);
    const result = await runTurn(options(provider, { signal: controller.signal }).turn);
    expect(result.stopReason).toBe('aborted');
    const results = toolResults(result.messages);
    expect(results.map((message) => message.toolCallId)).toEqual(['s1', 's2']);
    expect(results[1]).toMatchObject({ isError: true, content: 'The turn was stopped before this tool ran.' });
  });

  it('a pause stops the running tool: its result says so, later calls are not run, and the model is not called again', async () => {
    executed.length = 0;
    const paused = pauseSwitch();
    const provider = new ScriptedProvider([
      () => {
        setTimeout(() => paused.pause(), 20);
        return { content: [call('p1', 'slow', {}), call('p2', 'add', { a: 1, b: 1 })] };
      },
      () => ({ content: [text('must not be asked')] }),
    ]);
    const result = await runTurn(options(provider, {}, paused.hooks).turn);
    const results = toolResults(result.messages);
    // Without the pause the slow tool's own answer ("interrupted") would have reached the model.
    expect(results.map((message) => [message.toolCallId, message.content, message.isError])).toEqual([
      ['p1', STOPPED_BY_PAUSE, true],
      ['p2', 'Not run: Pavise was paused.', true],
    ]);
    expect(executed).toEqual([]);
    expect(provider.requests).toHaveLength(1);
    expect(result.error?.code).toBe('paused');
    expect(result.messages.at(-1)).toMatchObject({ role: 'assistant', error: { code: 'paused' } });
    // Watched while the model answered, then while the tool ran.
    expect(paused.watched).toEqual(['start', 'stop', 'start', 'stop']);
    // The words before the stopped tool call are not the reply: the pause notice is.
    expect(result.reply).toBe('');
  });

  it('a pause that came between the gate’s check and the call starts nothing: the call is not run', async () => {
    executed.length = 0;
    // Not paused while the model answers (the first watch), paused by the time the tool would start (the second).
    let watches = 0;
    const already = {
      watchPause: () => ({ signal: ++watches > 1 ? AbortSignal.abort() : new AbortController().signal, stop: () => undefined }),
    } satisfies Partial<AgentHooks>;
    const provider = new ScriptedProvider([() => ({ content: [call('p1', 'add', { a: 1, b: 2 })] }), () => ({ content: [text('must not be asked')] })]);
    const result = await runTurn(options(provider, {}, already).turn);
    expect(executed).toEqual([]);
    expect(toolResults(result.messages)).toMatchObject([{ toolCallId: 'p1', content: 'Not run: Pavise was paused.', isError: true }]);
    expect(provider.requests).toHaveLength(1);
    expect(result.error?.code).toBe('paused');
  });

  it('a pause while the model is answering aborts that call: the answer is cut off, nothing it asked for runs, and there is no reply', async () => {
    executed.length = 0;
    const paused = pauseSwitch();
    let seen: AbortSignal | undefined;
    const provider = new ScriptedProvider([
      // A provider streaming slowly: it has written some words and a finished tool call when the owner pauses.
      async (_request, callOptions) => {
        seen = callOptions.signal;
        callOptions.onEvent?.({ type: 'text_delta', text: 'Sending it now' });
        const aborted = new Promise<void>((resolve) => callOptions.signal?.addEventListener('abort', () => resolve(), { once: true }));
        paused.pause();
        await aborted;
        return {
          content: [text('Sending it now'), call('m1', 'add', { a: 1, b: 1 })],
          stopReason: 'aborted',
          usage: usage(40, 6),
          error: { code: 'aborted', message: 'The request to Anthropic was cancelled.' },
        };
      },
      () => ({ content: [text('must not be asked')] }),
    ]);
    const result = await runTurn(options(provider, {}, paused.hooks).turn);
    expect(seen?.aborted).toBe(true);
    expect(executed).toEqual([]);
    expect(provider.requests).toHaveLength(1);
    expect(result).toMatchObject({ stopReason: 'error', error: { code: 'paused', message: PAUSED_MID_ANSWER }, reply: '' });
    // What was streamed stays in the history, with its cost, marked as cut off by the pause; its call got a result.
    expect(result.messages[1]).toMatchObject({ role: 'assistant', usage: { inputTokens: 40, outputTokens: 6 }, error: { code: 'paused' } });
    expect(result.usage).toMatchObject({ inputTokens: 40, outputTokens: 6 });
    expect(toolResults(result.messages)).toMatchObject([{ toolCallId: 'm1', content: 'Not run: Pavise was paused.', isError: true }]);
    expect(paused.watched).toEqual(['start', 'stop']);
  });

  it('an answer that finished just as the pause came runs none of its tool calls', async () => {
    executed.length = 0;
    const paused = pauseSwitch();
    const provider = new ScriptedProvider([
      () => {
        paused.pause();
        return { content: [call('f1', 'add', { a: 1, b: 1 })] };
      },
    ]);
    const result = await runTurn(options(provider, {}, paused.hooks).turn);
    expect(executed).toEqual([]);
    expect(result).toMatchObject({ error: { code: 'paused' }, reply: '' });
    expect(toolResults(result.messages)).toMatchObject([{ toolCallId: 'f1', content: 'Not run: Pavise was paused.' }]);
  });

  it('the owner stopping the turn is not reported as a pause', async () => {
    const controller = new AbortController();
    const paused = pauseSwitch();
    const provider = new ScriptedProvider([
      async (_request, callOptions) => {
        const aborted = new Promise<void>((resolve) => callOptions.signal?.addEventListener('abort', () => resolve(), { once: true }));
        controller.abort();
        await aborted;
        return { content: [text('Half')], stopReason: 'aborted', error: { code: 'aborted', message: 'The request to Anthropic was cancelled.' } };
      },
    ]);
    const result = await runTurn(options(provider, { signal: controller.signal }, paused.hooks).turn);
    expect(result).toMatchObject({ stopReason: 'aborted', error: { code: 'aborted' }, reply: 'Half' });
  });

  it('once paused, a tool that ignores its signal is waited for only a short grace, and its late result is not used', async () => {
    const paused = pauseSwitch();
    const provider = new ScriptedProvider([
      () => {
        setTimeout(() => paused.pause(), 20);
        return { content: [call('p1', 'stubborn', {})] };
      },
      () => ({ content: [text('must not be asked')] }),
    ]);
    const started = Date.now();
    const result = await runTurn(options(provider, { tools: withStubborn }, paused.hooks).turn);
    expect(Date.now() - started).toBeLessThan(PAUSE_GRACE_MS + 2_000);
    expect(toolResults(result.messages)).toMatchObject([{ toolCallId: 'p1', content: STOPPED_BY_PAUSE, isError: true }]);
    expect(provider.requests).toHaveLength(1);
  });

  it('passes the context through transformContext without letting it mutate the stored history', async () => {
    const history: Message[] = [{ role: 'user', content: 'earlier', provenance: OWNER, timestamp: 0 }];
    const provider = new ScriptedProvider([() => ({ content: [text('ok')] })]);
    const { turn } = options(provider, { history }, {
      transformContext: (messages) => messages.slice(-1),
    });
    const result = await runTurn(turn);
    expect(provider.requests[0]?.request.messages).toHaveLength(1);
    expect(history).toHaveLength(1);
    expect(result.messages).toHaveLength(2);
  });

  it('surfaces a provider error as the final message and result', async () => {
    const provider = new ScriptedProvider([
      () => ({ content: [text('partial')], stopReason: 'error', error: { code: 'overloaded', message: 'Anthropic is overloaded.' } }),
    ]);
    const result = await runTurn(options(provider).turn);
    expect(result).toMatchObject({ stopReason: 'error', error: { code: 'overloaded' }, reply: 'partial' });
  });
});

describe('ToolRegistry', () => {
  it('refuses a tool without an effects declaration, a bad name or a duplicate', async () => {
    const undeclared = { ...add, name: 'undeclared', effects: undefined } as unknown as typeof add;
    await expect(registryOf(add, undeclared)).rejects.toThrow(/declares no effects/);
    await expect(registryOf(add, { ...add, name: 'bad name!' })).rejects.toThrow(/not a valid identifier/);
    await expect(registryOf(add, add)).rejects.toThrow(/registered twice/);
  });
});

describe('runTurn hooks for the gate', () => {
  it('beforeModelCall can stop a turn before any request leaves', async () => {
    const provider = new ScriptedProvider([]);
    const { turn } = options(provider, {}, {
      beforeModelCall: () => ({ action: 'deny', code: 'paused', reason: 'Pavise is paused.' }),
    });
    const result = await runTurn(turn);
    expect(provider.requests).toHaveLength(0);
    expect(result.error).toEqual({ code: 'paused', message: 'Pavise is paused.' });
  });

  it('afterToolCall rewrites results before the model sees them', async () => {
    const provider = new ScriptedProvider([
      () => ({ content: [call('r1', 'add', { a: 40, b: 2 })] }),
      (request) => {
        expect(request.messages.at(-1)).toMatchObject({ content: '[redacted]', provenance: { kind: 'untrusted', source: 'tool_output' } });
        return { content: [text('ok')] };
      },
    ]);
    const { turn } = options(provider, {}, {
      afterToolCall: (message, request) => {
        expect(request?.input).toEqual({ a: 40, b: 2 });
        return { ...message, content: '[redacted]', provenance: { kind: 'untrusted', source: 'tool_output' } };
      },
    });
    const result = await runTurn(turn);
    expect(toolResults(result.messages)[0]?.content).toBe('[redacted]');
  });

  it('executes exactly the frozen input the gate saw', async () => {
    const inputs: unknown[] = [];
    const provider = new ScriptedProvider([
      () => ({ content: [call('f1', 'add', { a: 1, b: 2 })] }),
      () => ({ content: [text('done')] }),
    ]);
    const { turn } = options(provider, {}, {
      beforeToolCall: (request) => {
        inputs.push(request.input);
        expect(Object.isFrozen(request.input)).toBe(true);
        expect(() => {
          (request.input as { a: number }).a = 99;
        }).toThrow(TypeError);
        return { action: 'allow' };
      },
    });
    executed.length = 0;
    await runTurn(turn);
    expect(executed).toEqual([{ a: 1, b: 2 }]);
    expect(inputs).toEqual([{ a: 1, b: 2 }]);
  });
});
