import { rmSync } from 'node:fs';
import type { ApprovalView } from '../../main/common/approvals.js';
import type { Risk } from '../../main/common/effects.js';
import { compose, type ComposeOptions, type Core } from '../../main/compose.js';
import { tempHome } from '../helpers/cli.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';

/** A throwaway PAVISE_HOME with an in-memory secret store: what the shell's tests run against. */
export function testHome(config: unknown = {}) {
  const home = tempHome(config);
  const secrets = new MemorySecretStore();
  return {
    ...home,
    secrets,
    serviceOptions: { secrets } satisfies Omit<ComposeOptions, 'env' | 'platform'>,
    cleanup: () => rmSync(home.home, { recursive: true, force: true }),
  };
}

export async function openServices(config: unknown = {}): Promise<{ services: Core; home: string; cleanup: () => void }> {
  const home = testHome(config);
  const services = await compose({ env: home.env, secrets: home.secrets });
  return {
    services,
    home: home.home,
    cleanup: () => {
      services.close();
      home.cleanup();
    },
  };
}

/** A pending approval as the gate would store it: sending a message, at the given risk. */
export function pendingApproval(services: Core, risk: Risk, text = 'See you at 7'): ApprovalView {
  const input = { to: 'Sam', text };
  return services.approvals.create({
    sessionId: undefined,
    tool: 'send_message',
    input,
    effects: [{ kind: 'send_message', channel: 'imessage', recipient: '+15550009999', text }],
    provenance: { origins: [] },
    hash: 'e'.repeat(64),
    title: 'Send iMessage to Sam (+1 555 000 9999)',
    reason: 'Sending a message always needs your approval.',
    risk,
    grantable: false,
    ttlMs: 10 * 60_000,
  });
}
