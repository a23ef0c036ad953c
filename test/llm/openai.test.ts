import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AssistantMessage } from '../../main/common/messages.js';
import { OpenAIProvider } from '../../main/llm/providers/openai.js';
import {
  corruptAfter,
  cutAfter,
  endAfter,
  hang,
  hangAfter,
  openaiContextOverflow,
  openaiError,
  openaiQuotaExceeded,
  openaiRateLimited,
  openaiServerError,
  openaiStreamErrorFrame,
  openaiText,
  openaiToolCalls,
  openaiTurn,
  openaiUnauthorized,
  replaceTail,
  startFakeOpenAI,
  type FakeLlmServer,
} from '../fakes/fake-openai-server.js';
import { assistant, FAST_RETRY, KEY, recorder, request, TIME_TOOL, toolResult, user, WEATHER_TOOL } from './fixtures.js';

let fake: FakeLlmServer;
let provider: OpenAIProvider;

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  provider = new OpenAIProvider({ id: 'openai', baseURL: fake.url, retry: FAST_RETRY });
});

type Body = Record<string, unknown> & { messages: Record<string, unknown>[]; tools?: unknown[] };
const body = (index = 0): Body => fake.requests[index]!.body as Body;

describe('OpenAIProvider streaming', () => {
  it('forwards text deltas in order and returns the final text, usage and stop reason', async () => {
    fake.enqueue(openaiText(['Hel', 'lo', ', world'], { usage: { prompt: 100, completion: 9, cached: 64 } }));
    const events = recorder();
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY, onEvent: events.onEvent });

    expect(events.deltas()).toEqual(['Hel', 'lo', ', world']);
    expect(result.content).toEqual([{ type: 'text', text: 'Hello, world' }]);
    expect(result.stopReason).toBe('stop');
    expect(result.error).toBeUndefined();
    expect(result.usage).toEqual({ inputTokens: 36, outputTokens: 9, cacheReadTokens: 64, cacheWriteTokens: 0 });
    expect(result.provider).toBe('openai');
    expect(fake.requests[0]!.path).toBe('/v1/chat/completions');
    expect(fake.requests[0]!.headers['authorization']).toBe(`Bearer ${KEY}`);
  });

  it('accumulates parallel tool calls whose arguments arrive in pieces', async () => {
    fake.enqueue(
      openaiToolCalls(
        [
          { id: 'call_a1', name: 'get_weather', arguments: { city: 'Lisbon', units: 'metric' } },
          { id: 'call_b2', name: 'current_time', arguments: {} },
        ],
        { text: 'On it.' },
      ),
    );
    const events = recorder();
    const result = await provider.complete(request([user('x')], { tools: [WEATHER_TOOL, TIME_TOOL] }), {
      apiKey: KEY,
      onEvent: events.onEvent,
    });
    expect(result.stopReason).toBe('toolUse');
    expect(result.content).toEqual([
      { type: 'text', text: 'On it.' },
      { type: 'toolCall', id: 'call_a1', name: 'get_weather', input: { city: 'Lisbon', units: 'metric' } },
      { type: 'toolCall', id: 'call_b2', name: 'current_time', input: {} },
    ]);
    expect(events.events.filter((event) => event.type === 'toolcall_start')).toEqual([
      { type: 'toolcall_start', id: 'call_a1', name: 'get_weather' },
      { type: 'toolcall_start', id: 'call_b2', name: 'current_time' },
    ]);
  });

  it('keeps unparseable arguments as __invalid_json', async () => {
    fake.enqueue(openaiToolCalls([{ id: 'call_x', name: 'get_weather', arguments: '{"city": "Lis' }]));
    const result = await provider.complete(request([user('x')], { tools: [WEATHER_TOOL] }), { apiKey: KEY });
    expect(result.content).toEqual([{ type: 'toolCall', id: 'call_x', name: 'get_weather', input: { __invalid_json: '{"city": "Lis' } }]);
  });

  it('treats tool calls as toolUse even when a compatible server says stop, and invents missing ids', async () => {
    fake.enqueue(openaiToolCalls([{ name: 'current_time', arguments: {} }], { finishReason: 'stop', omitUsage: true }));
    const result = await provider.complete(request([user('x')], { tools: [TIME_TOOL] }), { apiKey: KEY });
    expect(result.stopReason).toBe('toolUse');
    const call = result.content[0];
    expect(call?.type).toBe('toolCall');
    expect(call?.type === 'toolCall' && call.id).toMatch(/^call_0_/);
    expect(result.usage.inputTokens).toBe(0);
  });

  it('maps length', async () => {
    fake.enqueue(openaiText('trunc', { finishReason: 'length' }));
    const result = await provider.complete(request([user('x')]), { apiKey: KEY });
    expect(result.stopReason).toBe('length');
  });
});

describe('OpenAIProvider request shape', () => {
  it('sends the system prompt first, function tools, usage in the stream and max_completion_tokens', async () => {
    fake.enqueue(openaiText('ok'));
    await provider.complete(request([user('hi')], { tools: [WEATHER_TOOL] }), { apiKey: KEY });
    expect(body()).toEqual({
      model: 'test-model',
      messages: [
        { role: 'system', content: 'You are a careful assistant.' },
        { role: 'user', content: 'hi' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 1024,
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', description: 'Weather for a city.', parameters: WEATHER_TOOL.inputSchema },
        },
      ],
    });
  });

  it('maps tool calls and results, with error results marked in the text', async () => {
    fake.enqueue(openaiText('ok'));
    const history = [
      user('weather and time?'),
      assistant(
        [
          { type: 'text', text: 'Checking.' },
          { type: 'toolCall', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'toolCall', id: 'call_2', name: 'current_time', input: {} },
        ],
        { provider: 'openai' },
      ),
      toolResult('call_1', 'get_weather', 'Sunny'),
      toolResult('call_2', 'current_time', 'clock unavailable', true),
      user('thanks'),
    ];
    await provider.complete(request(history, { system: '' }), { apiKey: KEY });
    expect(body().messages).toEqual([
      { role: 'user', content: 'weather and time?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'current_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
      { role: 'tool', tool_call_id: 'call_2', content: 'Error: clock unavailable' },
      { role: 'user', content: 'thanks' },
    ]);
  });

  it('continues a session that started with Anthropic, normalising over-long ids consistently', async () => {
    fake.enqueue(openaiText('ok'));
    const anthropicId = 'toolu_01A09q90qw90lq917835lq9';
    const longId = 'toolu_01ThisIdIsFarTooLongForOpenAIsFortyCharacterLimit';
    const history = [
      user('hi'),
      assistant([
        { type: 'toolCall', id: anthropicId, name: 'current_time', input: {} },
        { type: 'toolCall', id: longId, name: 'get_weather', input: { city: 'Oslo' } },
      ]),
      toolResult(anthropicId, 'current_time', '09:00'),
      toolResult(longId, 'get_weather', 'Snow'),
      assistant([{ type: 'text', text: 'It is 09:00 and snowing.' }]),
      user('and now?'),
    ];
    await provider.complete(request(history), { apiKey: KEY });
    const messages = body().messages;
    const calls = (messages[2] as { tool_calls: { id: string }[] }).tool_calls.map((call) => call.id);
    expect(calls[0]).toBe(anthropicId);
    expect(calls[1]).not.toBe(longId);
    for (const id of calls) expect(id).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect([messages[3]!['tool_call_id'], messages[4]!['tool_call_id']]).toEqual(calls);
    expect(messages[5]).toEqual({ role: 'assistant', content: 'It is 09:00 and snowing.' });
  });

  it('synthesises a result for an interrupted tool call', async () => {
    fake.enqueue(openaiText('ok'));
    const history = [
      user('go'),
      assistant([{ type: 'toolCall', id: 'call_lost', name: 'current_time', input: {} }], { stopReason: 'aborted' }),
      user('stop'),
    ];
    await provider.complete(request(history, { system: '' }), { apiKey: KEY });
    expect(body().messages.slice(2)).toEqual([
      { role: 'tool', tool_call_id: 'call_lost', content: 'Error: Tool call was interrupted.' },
      { role: 'user', content: 'stop' },
    ]);
  });

  it('openai-compatible sends a placeholder key and max_tokens', async () => {
    const local = new OpenAIProvider({ id: 'openai-compatible', baseURL: fake.url, retry: FAST_RETRY });
    fake.enqueue(openaiText('local'));
    const result = await local.complete(request([user('hi')]), { apiKey: undefined });
    expect(result.content).toEqual([{ type: 'text', text: 'local' }]);
    expect(result.provider).toBe('openai-compatible');
    expect(fake.requests[0]!.apiKey).toBe('not-needed');
    expect(body()['max_tokens']).toBe(1024);
    expect(body()['max_completion_tokens']).toBeUndefined();
  });

  it('openai without a key reports missing_key and sends nothing', async () => {
    const result = await provider.complete(request([user('hi')]), { apiKey: undefined });
    expect(result.error?.code).toBe('missing_key');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('OpenAIProvider retries and errors', () => {
  it('honours retry-after on 429 and then succeeds', async () => {
    fake.enqueue(openaiRateLimited({ 'retry-after': '1' }), openaiText('ok'));
    const events = recorder();
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY, onEvent: events.onEvent });
    expect(result.content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(events.retries()).toEqual([{ type: 'retry', attempt: 2, delayMs: 1_000, reason: 'rate limited (429)' }]);
    expect(fake.requests[1]!.receivedAt - fake.requests[0]!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it('gives up with rate_limit when retries run out', async () => {
    fake.enqueue(...[1, 2, 3].map(() => openaiRateLimited({ 'retry-after-ms': '5' })));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error).toEqual({
      code: 'rate_limit',
      status: 429,
      message: 'OpenAI rate-limited the request (429) and retries ran out after 3 attempts; try again in a minute.',
    });
    expect(fake.requests).toHaveLength(3);
  });

  it('does not retry an exhausted quota', async () => {
    fake.enqueue(openaiQuotaExceeded(), openaiText('unused'));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error).toEqual({
      code: 'quota',
      status: 429,
      message: 'OpenAI reports that the account is out of quota (429); add credit or raise the limit under Billing on the OpenAI platform.',
    });
    expect(fake.requests).toHaveLength(1);
  });

  it('retries 5xx and reports server after the last attempt', async () => {
    fake.enqueue(openaiServerError(500), openaiServerError(503), openaiServerError(500));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error?.code).toBe('server');
    expect(result.error?.status).toBe(500);
    expect(fake.requests).toHaveLength(3);
  });

  it('401 becomes auth without retry, and the masked key in the server message is not repeated', async () => {
    fake.enqueue(openaiUnauthorized());
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error).toEqual({
      code: 'auth',
      status: 401,
      message: 'OpenAI rejected the API key (401); store a valid one with `pavise secrets set openai` (it reads the key from stdin).',
    });
    expect(fake.requests).toHaveLength(1);
  });

  it('a compatible server that wants a key when none is stored says how to store one', async () => {
    const local = new OpenAIProvider({ id: 'openai-compatible', baseURL: fake.url, retry: FAST_RETRY });
    fake.enqueue(openaiUnauthorized());
    const result = await local.complete(request([user('hi')]), { apiKey: undefined });
    expect(result.error).toMatchObject({ code: 'auth', status: 401 });
    expect(result.error?.message).toBe('The model server wants an API key (401) and none is stored; store one with `pavise secrets set openai-compatible` (it reads the key from stdin).');
  });

  it('context_length_exceeded becomes context_overflow', async () => {
    fake.enqueue(openaiContextOverflow());
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error?.code).toBe('context_overflow');
    expect(fake.requests).toHaveLength(1);
  });

  it('a compatible server wording its overflow differently is still context_overflow', async () => {
    fake.enqueue(openaiError(400, 'the input length exceeds the context length', 'invalid_request_error'));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error?.code).toBe('context_overflow');
  });

  it('other 400s become bad_request with the key redacted from the explanation', async () => {
    fake.enqueue(openaiError(400, `Invalid value for 'model' with key ${KEY}.`, 'invalid_request_error', 'invalid_value'));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error?.code).toBe('bad_request');
    expect(result.error?.message).toBe("OpenAI rejected the request (400): Invalid value for 'model' with key [redacted].");
  });
});

describe('OpenAIProvider broken streams and abort', () => {
  it('invalid JSON in the stream becomes malformed_stream with the partial text', async () => {
    fake.enqueue(corruptAfter(openaiText(['Hello ', 'there']), 2));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error?.code).toBe('malformed_stream');
    expect(result.content).toEqual([{ type: 'text', text: 'Hello ' }]);
    expect(fake.requests).toHaveLength(1);
  });

  it('a stream that ends before a finish reason is malformed_stream', async () => {
    fake.enqueue(endAfter(openaiText(['one ', 'two ', 'three']), 3));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error?.code).toBe('malformed_stream');
    expect(result.content).toEqual([{ type: 'text', text: 'one two ' }]);
  });

  it('an error object mid-stream after output is reported and not retried', async () => {
    fake.enqueue(replaceTail(openaiText(['Part', 'ial']), 2, [openaiStreamErrorFrame()]), openaiText('unused'));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.error?.code).toBe('server');
    expect(result.content).toEqual([{ type: 'text', text: 'Part' }]);
    expect(fake.requests).toHaveLength(1);
  });

  it('a connection cut mid-stream keeps the partial text and is not retried', async () => {
    const reply = openaiTurn({ text: ['Working ', 'on it.'], toolCalls: [{ id: 'call_z', name: 'get_weather', arguments: { city: 'Rome' } }] });
    // role chunk, 2 text chunks, tool start, first argument piece
    fake.enqueue(cutAfter(reply, 5), openaiText('unused'));
    const result = await provider.complete(request([user('hi')], { tools: [WEATHER_TOOL] }), { apiKey: KEY });
    expect(result.error?.code).toBe('network');
    expect(result.content).toEqual([{ type: 'text', text: 'Working on it.' }]);
    expect(fake.requests).toHaveLength(1);
  });

  it('a stream cut before any output is retried', async () => {
    fake.enqueue(cutAfter(openaiText('lost'), 1), openaiText('whole'));
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY });
    expect(result.content).toEqual([{ type: 'text', text: 'whole' }]);
    expect(fake.requests).toHaveLength(2);
  });

  it('aborting mid-stream returns aborted with the partial text', async () => {
    fake.enqueue(hangAfter(openaiText(['Hel', 'lo']), 2));
    const controller = new AbortController();
    const events = recorder((event) => {
      if (event.type === 'text_delta') controller.abort();
    });
    const result = await provider.complete(request([user('hi')]), { apiKey: KEY, signal: controller.signal, onEvent: events.onEvent });
    expect(result.stopReason).toBe('aborted');
    expect(result.error?.code).toBe('aborted');
    expect(result.content).toEqual([{ type: 'text', text: 'Hel' }]);
  });

  it('aborting before the server answers returns aborted', async () => {
    fake.enqueue(hang());
    const controller = new AbortController();
    const pending = provider.complete(request([user('hi')]), { apiKey: KEY, signal: controller.signal });
    await fake.waitForRequests(1);
    controller.abort();
    const result = await pending;
    expect(result.stopReason).toBe('aborted');
  });

  it('never rejects, whatever the server does', async () => {
    const noRetry = new OpenAIProvider({ id: 'openai', baseURL: fake.url, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const replies = [
      openaiUnauthorized(),
      openaiServerError(502),
      corruptAfter(openaiText('a b c'), 1),
      cutAfter(openaiText(['x', 'y']), 2),
      openaiError(404, 'The model `nope` does not exist', 'invalid_request_error', 'model_not_found'),
    ];
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
    expect(results.map((result) => result.error?.code)).toEqual(['auth', 'server', 'malformed_stream', 'network', 'bad_request']);
  });
});
