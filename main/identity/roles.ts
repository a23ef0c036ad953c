import type { ChannelId } from '../common/channels.js';
import type { Config } from '../common/config-schema.js';
import type { ChannelStore, SenderRole } from '../storage/channel-store.js';
import { ownerRegion, sameHandle } from './handles.js';

/** Who a sender is: an owner (config or paired), an approved contact, or a stranger. */
export function roleOf(config: Config, store: ChannelStore, channel: ChannelId, sender: string): Exclude<SenderRole, 'self'> {
  // A channel without a section in config.json (one added by a test) has owners only by pairing.
  const configured: readonly string[] = (config.channels as unknown as Readonly<Record<string, { owners?: readonly string[] }>>)[channel]?.owners ?? [];
  const region = ownerRegion(config);
  if (configured.some((owner) => sameHandle(channel, owner, sender, region))) return 'owner';
  const known = store.identities().filter((identity) => identity.channel === channel && sameHandle(channel, identity.identity, sender, region));
  if (known.some((identity) => identity.role === 'owner')) return 'owner';
  if (known.some((identity) => identity.role === 'contact')) return 'contact';
  return 'stranger';
}
