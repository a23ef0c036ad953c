import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AssistantMessage } from '../../main/common/messages.js';
import { AnthropicProvider } from '../../main/llm/providers/anthropic.js';
import {
  anthropicContextOverflow,
  anthropicCreditTooLow,
  anthropicError,
  anthropicOverloaded,
  anthropicRateLimited,
  anthropicServerError,
  anthropicStreamErrorFrame,
  anthropicText,
  anthropicToolUse,
  anthropicTurn,
  anthropicUnauthorized,
  corruptAfter,
  cutAfter,
  dropConnection,
  endAfter,
  hang,
  hangAfter,
  replaceTail,
  startFakeAnthropic,
  type FakeLlmServer,
} from '../fakes/fake-anthropic-server.js';
import { assistant, FAST_RETRY, KEY, recorder, request, TIME_TOOL, toolResult, user, WEATHER_TOOL } from './fixtures.js';

let fake: FakeLlmServer;
let provider: AnthropicProvider;

beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  provider = new AnthropicProvider({ baseURL: fake.url, retry: FAST_RETRY });
});

type Body = {
  model: string;
  max_tokens: number;
  stream: boolean;
  system?: unknown;
  tools?: { name: string; cache_control?: unknown; input_schema: unknown }[];
  messages: { role: string; content: unknown }[];
};
const body = (index = 0): Body => fake.requests[index]!.body as Body;

describe('AnthropicProvider streaming', () => {
  it('forwards text deltas in order and returns the final text, usage and stop reason', async () => {
    fake.enqueue(anthropicText(['Hel', 'lo', ', world'], { usage: { input: 42, output: 7, cacheRead: 30, cacheWrite: 12 } }));
    const events = recorder();
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY, onEvent: events.onEvent });

    expect(events.deltas()).toEqual(['Hel', 'lo', ', world']);
    expect(result.content).toEqual([{ type: 'text', text: 'Hello, world' }]);
    expect(result.stopReason).toBe('stop');
    expect(result.error).toBeUndefined();
    expect(result.usage).toEqual({ inputTokens: 42, outputTokens: 7, cacheReadTokens: 30, cacheWriteTokens: 12 });
    expect(result.provider).toBe('anthropic');
    expect(result.model).toBe('test-model');

    const sent = fake.requests[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v1/messages');
    expect(sent.apiKey).toBe(KEY);
    expect(body().model).toBe('test-model');
    expect(body().max_tokens).toBe(1024);
    expect(body().stream).toBe(true);
  });

  it('accumulates tool input split across input_json_delta chunks and announces the call', async () => {
    const reply = anthropicToolUse('toolu_01ABC', 'get_weather', { city: 'Paris', days: 3, units: 'metric' }, { text: 'Let me check.' });
    const jsonDeltas = reply.kind === 'stream' ? reply.frames.filter((frame) => 'data' in frame && frame.data.includes('input_json_delta')) : [];
    expect(jsonDeltas.length).toBeGreaterThan(2);
    fake.enqueue(reply);
    const events = recorder();
    const result = await provider.complete(request([user('weather?')], { tools: [WEATHER_TOOL] }), {
      apiKey: KEY,
      onEvent: events.onEvent,
    });

    expect(result.stopReason).toBe('toolUse');
    expect(result.content).toEqual([
      { type: 'text', text: 'Let me check.' },
      { type: 'toolCall', id: 'toolu_01ABC', name: 'get_weather', input: { city: 'Paris', days: 3, units: 'metric' } },
    ]);
    expect(events.events).toContainEqual({ type: 'toolcall_start', id: 'toolu_01ABC', name: 'get_weather' });
  });

  it('keeps unparseable tool JSON as __invalid_json so the model can be told', async () => {
    fake.enqueue(anthropicTurn({ blocks: [{ type: 'tool_use', id: 'toolu_bad', name: 'get_weather', rawJson: ['{"city": ', '"Par'] }] }));
    const result = await provider.complete(request([user('x')], { tools: [WEATHER_TOOL] }), { apiKey: KEY });
    expect(result.stopReason).toBe('toolUse');
    expect(result.content).toEqual([{ type: 'toolCall', id: 'toolu_bad', name: 'get_weather', input: { __invalid_json: '{"city": "Par' } }]);
  });

  it('maps max_tokens to length', async () => {
    fake.enqueue(anthropicText('cut sho', { stopReason: 'max_tokens' }));
    const result = await provider.complete(request([user('x')]), { apiKey: KEY });
    expect(result.stopReason).toBe('length');
  });
});

describe('AnthropicProvider request shape', () => {
  it('marks the system prompt and the last tool as cacheable', async () => {
    fake.enqueue(anthropicText('ok'));
    await provider.complete(request([user('hi')], { tools: [WEATHER_TOOL, TIME_TOOL] }), { apiKey: KEY });

    expect(body().system).toEqual([{ type: 'text', text: 'You are a careful assistant.', cache_control: { type: 'ephemeral' } }]);
    const tools = body().tools!;
    expect(tools.map((tool) => tool.name)).toEqual(['get_weather', 'current_time']);
    expect(tools[0]!.cache_control).toBeUndefined();
    expect(tools[1]!.cache_control).toEqual({ type: 'ephemeral' });
    expect(tools[0]!.input_schema).toEqual(WEATHER_TOOL.inputSchema);
  });

  it('omits tools when there are none', async () => {
    fake.enqueue(anthropicText('ok'));
    await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(body().tools).toBeUndefined();
  });

  it('maps a history with tool calls and results, merging same-role neighbours', async () => {
    fake.enqueue(anthropicText('ok'));
    const history = [
      user('What is the weather in Paris and the time?'),
      assistant([
        { type: 'text', text: 'Checking.' },
        { type: 'toolCall', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'toolCall', id: 'toolu_2', name: 'current_time', input: {} },
      ]),
      toolResult('toolu_1', 'get_weather', 'Sunny, 21C'),
      toolResult('toolu_2', 'current_time', 'clock unavailable', true),
      user('Also, thanks.'),
      user('One more thing.'),
    ];
    await provider.complete(request(history), { apiKey: KEY });

    expect(body().messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'What is the weather in Paris and the time?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'current_time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny, 21C' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: 'clock unavailable', is_error: true },
          { type: 'text', text: 'Also, thanks.' },
          { type: 'text', text: 'One more thing.' },
        ],
      },
    ]);
  });

  it('normalises foreign tool-call ids consistently for tool_use and tool_result', async () => {
    fake.enqueue(anthropicText('ok'));
    const foreign = 'call_9f8e7d6c|fc_0123456789abcdef0123456789abcdef0123456789abcdef0123456789';
    const other = 'call_abc.def';
    const history = [
      user('hi'),
      assistant(
        [
          { type: 'toolCall', id: foreign, name: 'get_weather', input: { city: 'Oslo' } },
          { type: 'toolCall', id: other, name: 'current_time', input: {} },
        ],
        { provider: 'openai' },
      ),
      toolResult(foreign, 'get_weather', 'Snow'),
      toolResult(other, 'current_time', '12:00'),
    ];
    await provider.complete(request(history), { apiKey: KEY });

    const [, calls, results] = body().messages as { content: { id?: string; tool_use_id?: string }[] }[];
    const ids = calls!.content.map((block) => block.id!);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(new Set(ids).size).toBe(2);
    expect(results!.content.map((block) => block.tool_use_id)).toEqual(ids);
  });

  it('repairs an aborted turn: drops empty failed replies and answers unanswered tool calls', async () => {
    fake.enqueue(anthropicText('ok'));
    const history = [
      user('do it'),
      assistant([{ type: 'toolCall', id: 'toolu_lost', name: 'current_time', input: {} }], { stopReason: 'aborted' }),
      user('never mind'),
      assistant([], { stopReason: 'error', error: { code: 'overloaded', message: 'Overloaded.' } }),
      user('hello again'),
    ];
    await provider.complete(request(history), { apiKey: KEY });

    expect(body().messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'do it' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_lost', name: 'current_time', input: {} }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_lost', content: 'Tool call was interrupted.', is_error: true },
          { type: 'text', text: 'never mind' },
          { type: 'text', text: 'hello again' },
        ],
      },
    ]);
  });
});

describe('AnthropicProvider retries', () => {
  it('honours retry-after (seconds) on 429 and then succeeds', async () => {
    fake.enqueue(anthropicRateLimited({ 'retry-after': '1' }), anthropicText('finally'));
    const events = recorder();
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY, onEvent: events.onEvent });

    expect(result.stopReason).toBe('stop');
    expect(result.content).toEqual([{ type: 'text', text: 'finally' }]);
    expect(events.retries()).toEqual([{ type: 'retry', attempt: 2, delayMs: 1_000, reason: 'rate limited (429)' }]);
    expect(fake.requests).toHaveLength(2);
    const waited = fake.requests[1]!.receivedAt - fake.requests[0]!.receivedAt;
    expect(waited).toBeGreaterThanOrEqual(950);
  });

  it('honours retry-after-ms', async () => {
    fake.enqueue(anthropicRateLimited({ 'retry-after-ms': '250' }), anthropicText('ok'));
    const events = recorder();
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY, onEvent: events.onEvent });
    expect(result.stopReason).toBe('stop');
    expect(events.retries().map((event) => event.delayMs)).toEqual([250]);
    expect(fake.requests[1]!.receivedAt - fake.requests[0]!.receivedAt).toBeGreaterThanOrEqual(230);
  });

  it('gives up with rate_limit when retries run out', async () => {
    fake.enqueue(...[1, 2, 3].map(() => anthropicRateLimited({ 'retry-after-ms': '10' })));
    const events = recorder();
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY, onEvent: events.onEvent });

    expect(result.stopReason).toBe('error');
    expect(result.error).toEqual({
      code: 'rate_limit',
      status: 429,
      message: 'Anthropic rate-limited the request (429) and retries ran out after 3 attempts; try again in a minute.',
    });
    expect(fake.requests).toHaveLength(3);
    expect(events.retries().map((event) => event.attempt)).toEqual([2, 3]);
  });

  it('does not wait longer than the policy allows; a longer retry-after ends the retries', async () => {
    fake.enqueue(anthropicRateLimited({ 'retry-after': '3600' }));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error?.code).toBe('rate_limit');
    expect(result.error?.message).toBe('Anthropic asked to wait 3600 seconds before retrying (429); try again later.');
    expect(fake.requests).toHaveLength(1);
  });

  it('retries 500 and reports server after the last attempt', async () => {
    fake.enqueue(anthropicServerError(500), anthropicServerError(502), anthropicServerError(500));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error).toEqual({
      code: 'server',
      status: 500,
      message: 'Anthropic had a server error (500) and retries ran out after 3 attempts; try again shortly.',
    });
    expect(fake.requests).toHaveLength(3);
  });

  it('retries 529 overloaded, then succeeds', async () => {
    fake.enqueue(anthropicOverloaded(), anthropicText('back'));
    const events = recorder();
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY, onEvent: events.onEvent });
    expect(result.content).toEqual([{ type: 'text', text: 'back' }]);
    expect(events.retries()[0]?.reason).toBe('overloaded (529)');
  });

  it('reports overloaded when 529 persists', async () => {
    fake.enqueue(anthropicOverloaded(), anthropicOverloaded(), anthropicOverloaded());
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error?.code).toBe('overloaded');
    expect(result.error?.status).toBe(529);
    expect(result.error?.message).toMatch(/^Anthropic is overloaded \(529\) and retries ran out/);
  });

  it('retries a dropped connection', async () => {
    fake.enqueue(dropConnection(), anthropicText('connected'));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.content).toEqual([{ type: 'text', text: 'connected' }]);
    expect(fake.requests).toHaveLength(2);
  });

  it('reports network when the server cannot be reached', async () => {
    const closed = await startFakeAnthropic();
    const url = closed.url;
    await closed.close();
    const unreachable = new AnthropicProvider({ baseURL: url, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 10 } });
    const result = await unreachable.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.stopReason).toBe('error');
    expect(result.error?.code).toBe('network');
    expect(result.error?.message).toBe('Could not reach Anthropic and retries ran out after 2 attempts; check the network connection.');
  });

  it('retries an error event that arrives before any output', async () => {
    fake.enqueue(replaceTail(anthropicText('never'), 1, [anthropicStreamErrorFrame('overloaded_error', 'Overloaded')]), anthropicText('second'));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.content).toEqual([{ type: 'text', text: 'second' }]);
    expect(fake.requests).toHaveLength(2);
  });

  it('retries a stream cut before any output', async () => {
    fake.enqueue(cutAfter(anthropicText('lost'), 2), anthropicText('whole'));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.content).toEqual([{ type: 'text', text: 'whole' }]);
    expect(fake.requests).toHaveLength(2);
  });
});

describe('AnthropicProvider errors that are not retried', () => {
  it('401 becomes auth with one request and no key in the message', async () => {
    fake.enqueue(anthropicUnauthorized(), anthropicText('unused'));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.stopReason).toBe('error');
    expect(result.error).toEqual({
      code: 'auth',
      status: 401,
      message: 'Anthropic rejected the API key (401); store a valid one with `pavise secrets set anthropic` (it reads the key from stdin).',
    });
    expect(fake.requests).toHaveLength(1);
    expect(JSON.stringify(result)).not.toContain(KEY);
  });

  it('the fake rejects a wrong key when it requires one', async () => {
    const strict = await startFakeAnthropic({ apiKey: 'the-right-key' });
    try {
      strict.enqueue(anthropicText('unused'));
      const result = await new AnthropicProvider({ baseURL: strict.url, retry: FAST_RETRY }).complete(request([user('hi')]), {
        apiKey: 'a-wrong-key',
      });
      expect(result.error?.code).toBe('auth');
      expect(strict.pending()).toBe(1);
    } finally {
      await strict.close();
    }
  });

  it('403 becomes auth', async () => {
    fake.enqueue(anthropicError(403, 'permission_error', 'Your API key does not have permission to use the specified resource.'));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error?.code).toBe('auth');
    expect(result.error?.status).toBe(403);
  });

  it('a too-long prompt becomes context_overflow', async () => {
    fake.enqueue(anthropicContextOverflow());
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error?.code).toBe('context_overflow');
    expect(result.error?.status).toBe(400);
    expect(fake.requests).toHaveLength(1);
  });

  it('a credit balance too low is quota (the owner must add credit), with one request and what to do', async () => {
    fake.enqueue(anthropicCreditTooLow(), anthropicText('unused'));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error).toEqual({
      code: 'quota',
      status: 400,
      message: 'Anthropic reports that the credit balance of the account is too low (400); add credit under Plans & Billing in the Anthropic Console.',
    });
    expect(fake.requests).toHaveLength(1);
  });

  it('another 400 becomes bad_request with the server explanation', async () => {
    fake.enqueue(anthropicError(400, 'invalid_request_error', 'messages: text content blocks must be non-empty'));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error).toEqual({
      code: 'bad_request',
      status: 400,
      message: 'Anthropic rejected the request (400): messages: text content blocks must be non-empty.',
    });
  });

  it('a missing key is reported without a request', async () => {
    const result = await provider.complete(request([user('hi')]), { apiKey: undefined });
    expect(result.error?.code).toBe('missing_key');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('AnthropicProvider broken streams', () => {
  it('invalid JSON in the stream becomes malformed_stream with the partial text', async () => {
    fake.enqueue(corruptAfter(anthropicText(['Hello ', 'there']), 4));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.stopReason).toBe('error');
    expect(result.error?.code).toBe('malformed_stream');
    expect(result.content).toEqual([{ type: 'text', text: 'Hello ' }]);
    expect(fake.requests).toHaveLength(1);
  });

  it('a stream that ends without message_stop is malformed_stream', async () => {
    fake.enqueue(endAfter(anthropicText(['one ', 'two ', 'three']), 5));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error?.code).toBe('malformed_stream');
    expect(result.error?.message).toBe("Anthropic's reply stream was cut off or unreadable; try again.");
    expect(result.content).toEqual([{ type: 'text', text: 'one two ' }]);
  });

  it('an error event after output is overloaded when it says so, and is not retried', async () => {
    fake.enqueue(replaceTail(anthropicText(['Part', 'ial']), 4, [anthropicStreamErrorFrame('overloaded_error', 'Overloaded')]));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error?.code).toBe('overloaded');
    expect(result.error?.message).toBe('Anthropic became overloaded mid-reply; try again shortly.');
    expect(result.content).toEqual([{ type: 'text', text: 'Part' }]);
    expect(fake.requests).toHaveLength(1);
  });

  it('an unexplained error event after output is malformed_stream', async () => {
    fake.enqueue(replaceTail(anthropicText(['Part', 'ial']), 4, [anthropicStreamErrorFrame('invalid_request_error', 'bad')]));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error?.code).toBe('malformed_stream');
  });

  it('a connection cut mid-stream keeps the partial text, drops the unfinished tool call, and is not retried', async () => {
    const reply = anthropicTurn({
      blocks: [
        { type: 'text', text: ['Working ', 'on it.'] },
        { type: 'tool_use', id: 'toolu_x', name: 'get_weather', input: { city: 'Rome' } },
      ],
    });
    // message_start, ping, text start, 2 deltas, text stop, tool start, first json delta
    fake.enqueue(cutAfter(reply, 8), anthropicText('unused'));
    const events = recorder();
    const result = await provider.complete(request([user('hi')], { tools: [WEATHER_TOOL] }), { apiKey: KEY, onEvent: events.onEvent });
    expect(result.stopReason).toBe('error');
    expect(result.error?.code).toBe('network');
    expect(result.error?.message).toBe('The connection to Anthropic dropped mid-reply; try again.');
    expect(result.content).toEqual([{ type: 'text', text: 'Working on it.' }]);
    expect(events.deltas()).toEqual(['Working ', 'on it.']);
    expect(fake.requests).toHaveLength(1);
    expect(fake.pending()).toBe(1);
  });
});

describe('AnthropicProvider abort', () => {
  it('aborting mid-stream returns aborted with the partial text', async () => {
    fake.enqueue(hangAfter(anthropicText(['Hel', 'lo']), 4));
    const controller = new AbortController();
    const events = recorder((event) => {
      if (event.type === 'text_delta') controller.abort();
    });
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY, signal: controller.signal, onEvent: events.onEvent });
    expect(result.stopReason).toBe('aborted');
    expect(result.error?.code).toBe('aborted');
    expect(result.content).toEqual([{ type: 'text', text: 'Hel' }]);
  });

  it('aborting while the server has not answered returns aborted', async () => {
    fake.enqueue(hang());
    const controller = new AbortController();
    const pending = provider.complete(request([user('hi')]), { apiKey: KEY, signal: controller.signal });
    await fake.waitForRequests(1);
    controller.abort();
    const result = await pending;
    expect(result.stopReason).toBe('aborted');
    expect(result.content).toEqual([]);
  });

  it('aborting during a retry wait returns aborted at once', async () => {
    fake.enqueue(anthropicRateLimited({ 'retry-after': '4' }), anthropicText('unused'));
    const controller = new AbortController();
    const started = performance.now();
    const events = recorder((event) => {
      if (event.type === 'retry') setTimeout(() => controller.abort(), 20);
    });
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY, signal: controller.signal, onEvent: events.onEvent });
    expect(result.stopReason).toBe('aborted');
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(fake.requests).toHaveLength(1);
  });

  it('an already-aborted signal sends nothing', async () => {
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY, signal: AbortSignal.abort() });
    expect(result.stopReason).toBe('aborted');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('AnthropicProvider never rejects', () => {
  it('resolves for every failure, even when the event listener throws', async () => {
    const replies = [
      anthropicUnauthorized(),
      anthropicContextOverflow(),
      corruptAfter(anthropicText('a b c'), 3),
      cutAfter(anthropicText(['x', 'y']), 4),
      endAfter(anthropicText('a b c'), 2),
      anthropicError(404, 'not_found_error', 'model: nope'),
      anthropicText('fine'),
    ];
    const noRetry = new AnthropicProvider({ baseURL: fake.url, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const results: AssistantMessage[] = [];
    for (const reply of replies) {
      fake.enqueue(reply);
      const outcome = noRetry.complete(request([user('hi')]), {
        apiKey: KEY,
        onEvent: () => {
          throw new Error('listener bug');
        },
      });
      await expect(outcome).resolves.toBeDefined();
      results.push(await outcome);
    }
    expect(results.map((result) => result.error?.code ?? result.stopReason)).toEqual([
      'auth',
      'context_overflow',
      'malformed_stream',
      'network',
      'malformed_stream',
      'bad_request',
      'stop',
    ]);
    for (const result of results) {
      if (result.error) expect(result.error.message).not.toMatch(/\n|at .*\(|Error:/);
    }
  });
});
