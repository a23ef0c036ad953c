import { describe, expect, it } from 'vitest';
import { createCurrentTimeTool, currentTimeTool } from '../../main/tools/current-time.js';
import { registryOf, titleOf } from '../helpers/tool-source.js';

const context = { sessionId: 's', callId: 'call_1', signal: new AbortController().signal };
const at = (iso: string, defaultTimeZone = 'UTC') =>
  createCurrentTimeTool({ now: () => new Date(iso), defaultTimeZone: () => defaultTimeZone });

const run = async (tool: ReturnType<typeof at>, raw: unknown) => {
  const output = await tool.execute(tool.input.parse(raw), context);
  return JSON.parse(typeof output === 'string' ? output : output.content) as { iso: string; human: string; timezone: string };
};

describe('current_time', () => {
  it('declares no effects and registers', async () => {
    expect(currentTimeTool.name).toBe('current_time');
    expect(currentTimeTool.effects).toEqual([]);
    expect(currentTimeTool.output).toEqual({ kind: 'trigger' });
    const spec = (await registryOf(currentTimeTool)).specs()[0];
    expect(spec?.inputSchema).toMatchObject({ type: 'object', properties: { timezone: { type: 'string' } } });
  });

  it('gives ISO time with the zone offset and a human string', async () => {
    const tool = at('2023-11-14T22:13:20.123Z');
    expect(await run(tool, { timezone: 'Europe/Berlin' })).toEqual({
      iso: '2023-11-14T23:13:20+01:00',
      // ICU versions differ in the space before "PM".
      human: expect.stringMatching(/^Tuesday, November 14, 2023 at 11:13:20\sPM GMT\+1$/),
      timezone: 'Europe/Berlin',
    });
    expect((await run(tool, { timezone: 'Asia/Kolkata' })).iso).toBe('2023-11-15T03:43:20+05:30');
    expect((await run(tool, { timezone: 'America/St_Johns' })).iso).toBe('2023-11-14T18:43:20-03:30');
    expect((await run(at('2024-07-01T00:30:00Z'), { timezone: 'Europe/Berlin' })).iso).toBe('2024-07-01T02:30:00+02:00');
  });

  it("uses the owner's zone when none is given", async () => {
    const result = await run(at('2023-11-14T22:13:20Z', 'America/New_York'), {});
    expect(result.timezone).toBe('America/New_York');
    expect(result.iso).toBe('2023-11-14T17:13:20-05:00');
    expect((await run(at('2023-11-14T22:13:20Z'), {})).iso).toBe('2023-11-14T22:13:20+00:00');
  });

  it('throws a clear error for a zone that does not exist', async () => {
    const tool = at('2023-11-14T22:13:20Z');
    await expect(async () => run(tool, { timezone: 'Mars/Olympus_Mons' })).rejects.toThrow(
      '"Mars/Olympus_Mons" is not a known IANA time zone; use a name like "Europe/Berlin" or "America/New_York".',
    );
  });

  it('rejects malformed input in the schema', () => {
    expect(currentTimeTool.input.safeParse({ timezone: 5 }).success).toBe(false);
    expect(currentTimeTool.input.safeParse({ timezone: '' }).success).toBe(false);
    expect(currentTimeTool.input.safeParse({ timezone: 'x'.repeat(65) }).success).toBe(false);
  });

  it('describes a call in one line', async () => {
    expect(await titleOf(currentTimeTool, {})).toBe('Read the current time');
    expect(await titleOf(currentTimeTool, { timezone: 'Asia/Tokyo' })).toBe('Read the current time in Asia/Tokyo');
  });
});
