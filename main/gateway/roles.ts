import type { ChannelId } from '../channels/channel.js';
import type { Config } from '../common/config-schema.js';
import type { ChannelStore, SenderRole } from './channel-store.js';
import { ownerRegion } from '../identity/handles.js';
import { sameHandle } from './identity.js';

/** Who a sender is: an owner (config or paired), an approved contact, or a stranger. */
export function roleOf(config: Config, store: ChannelStore, channel: ChannelId, sender: string): Exclude<SenderRole, 'self'> {
  const configured = channel === 'imessage' ? config.channels.imessage.owners : config.channels.telegram.owners;
  const region = ownerRegion(config);
  if (configured.some((owner) => sameHandle(channel, owner, sender, region))) return 'owner';
  const known = store.identities().filter((identity) => identity.channel === channel && sameHandle(channel, identity.identity, sender, region));
  if (known.some((identity) => identity.role === 'owner')) return 'owner';
  if (known.some((identity) => identity.role === 'contact')) return 'contact';
  return 'stranger';
}
