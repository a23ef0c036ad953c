import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GATEWAY_HEARTBEAT_FILE, HEARTBEAT_EVERY_MS } from '../../audit/doctor.js';
import { createChannels } from '../../channels/registry.js';
import { Gateway } from '../../gateway/gateway.js';
import { compose } from '../../compose.js';
import { startScheduler } from '../../scheduler/service.js';
import { EXIT, type CliIO } from '../io.js';

type ChannelHealth = ReturnType<Gateway['health']>[number];
import { parseCommandArgs } from '../args.js';

/** `pavise gateway`: every enabled channel in the foreground, until Ctrl-C or SIGTERM. */
export async function gatewayCommand(args: string[], io: CliIO): Promise<number> {
  parseCommandArgs('gateway', args, {}, { min: 0, max: 0, usage: '' });
  const services = await compose({ env: io.env, loadProviderAtFirstCall: true });
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const stamp = () => new Date().toISOString().slice(11, 19);
  const log = (line: string): void => {
    io.stdout.write(`${stamp()} ${line}\n`);
  };
  const stopAlerts = services.events.on('alert', (message) => log(`! ${message}`));
  const stopApprovals = services.events.on('approval', (approval) =>
    log(`approval needed (${approval.risk}): ${approval.title} — pavise approvals approve ${approval.id} | deny ${approval.id}`),
  );
  try {
    const channels = createChannels(services, io.env);
    if (channels.length === 0) {
      io.stderr.write(
        'pavise: no channel is enabled. Set channels.imessage.enabled or channels.telegram.enabled to true in config.json (with the owners), then run `pavise gateway` again.\n',
      );
      return EXIT.failure;
    }
    log(`gateway running: ${channels.map((channel) => channel.id).join(', ')} (Ctrl-C stops)`);
    const gateway = new Gateway(services, { channels, log });
    const running = gateway.run(controller.signal);
    // What `pavise doctor` and the app read to tell a live gateway from a stuck one.
    const beat = () => writeHeartbeat(services.paths.home, gateway.health());
    beat();
    const heartbeat = setInterval(beat, HEARTBEAT_EVERY_MS);
    heartbeat.unref();
    controller.signal.addEventListener('abort', () => clearInterval(heartbeat), { once: true });
    // Reminders, briefings and alerts fire from the gateway: one per home, and its outbox is what sends them. Its jobs
    // wait out the same model outage as its chats.
    await startScheduler(services, controller.signal, { log, modelOutage: gateway.modelOutage });
    await running;
    log('gateway stopped');
    return EXIT.ok;
  } finally {
    stopAlerts();
    stopApprovals();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    services.close();
  }
}

function writeHeartbeat(home: string, channels: readonly ChannelHealth[]): void {
  try {
    const states = channels.map(({ channel, state, detail, lastAliveAt, dueBy }) => ({
      channel,
      state,
      ...(detail ? { detail } : {}),
      ...(lastAliveAt !== undefined ? { lastPollAt: lastAliveAt } : {}),
      ...(dueBy !== undefined ? { pollDueBy: dueBy } : {}),
    }));
    writeFileSync(join(home, GATEWAY_HEARTBEAT_FILE), JSON.stringify({ pid: process.pid, at: Date.now(), channels: states }), { mode: 0o600 });
  } catch {
    // A full disk shows in `pavise doctor` as a stale heartbeat.
  }
}
