import { describe, expect, it } from 'vitest';
import { PAUSED_MID_ANSWER } from '../../main/agent/loop.js';
import type { Core } from '../../main/compose.js';
import { anthropicText, hangAfter } from '../fakes/fake-anthropic-server.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { scheduledGateways } from '../helpers/scheduled-gateway.js';
import { until } from '../helpers/wait.js';

const gateways = scheduledGateways();

/** Resolves at the first words the model streams in the next turn the core runs. */
function firstWords(core: Core): Promise<void> {
  const runner = core.runner;
  const run = runner.run.bind(runner);
  return new Promise((resolve) => {
    runner.run = (request) =>
      run({
        ...request,
        onEvent: (event) => {
          request.onEvent?.(event);
          if (event.type === 'text_delta') resolve();
        },
      });
  });
}

describe('a scheduled turn the owner pauses while the model writes it', () => {
  it('is cut off: the half-written briefing is not delivered, the run fails with the pause notice and the owner is told', async () => {
    const clock = new FakeClock(Date.now());
    const { core, channel, scheduler } = await gateways.start({ clock });
    const alerts: string[] = [];
    core.events.on('alert', (message) => alerts.push(message));
    const job = core.jobs.add({
      kind: 'turn',
      title: 'morning briefing',
      payload: { prompt: 'brief me on today' },
      schedule: { type: 'once', at: clock.now() + 60_000 },
      timeZone: 'UTC',
      nextRunAt: clock.now() + 60_000,
      missedPolicy: 'once',
      urgent: true,
      provenance: { kind: 'owner' },
    });
    // The first words, then a briefing that never ends on its own.
    gateways.fake.enqueue(hangAfter(anthropicText(['Good morning! Today you have', ' nothing at all, relax.']), 4));
    const words = firstWords(core);
    const run = scheduler.runNow(job.id);
    await words;
    core.setPaused(true, 'owner:popover');
    await gateways.fake.clientClosed(0);
    expect(await run).toMatchObject({ status: 'failed', detail: PAUSED_MID_ANSWER });
    expect(alerts.at(-1)).toContain(PAUSED_MID_ANSWER);
    core.setPaused(false, 'owner:popover');
    // Nothing was queued for the owner's chat: resuming sends nothing.
    await until(() => core.outbox.list().every((entry) => entry.status !== 'pending'), 'the outbox to settle');
    expect(core.outbox.list()).toEqual([]);
    expect(channel.sent).toEqual([]);
    expect(gateways.fake.requests).toHaveLength(1);
  });
});
