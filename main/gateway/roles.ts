import type { ChannelId } from '../channels/channel.js';
import type { Config } from '../common/config-schema.js';
import type { ChannelStore, SenderRole } from '../storage/channel-store.js';
import { sameHandle } from './identity.js';

/** Who a sender is: an owner (config or paired), an approved contact, or a stranger. */
export function roleOf(config: Config, store: ChannelStore, channel: ChannelId, sender: string): Exclude<SenderRole, 'self'> {
  const configured = channel === 'imessage' ? config.channels.imessage.owners : config.channels.telegram.owners;
  if (configured.some((owner) => sameHandle(owner, sender))) return 'owner';
  const known = store.identities().filter((identity) => identity.channel === channel && sameHandle(identity.identity, sender));
  if (known.some((identity) => identity.role === 'owner')) return 'owner';
  if (known.some((identity) => identity.role === 'contact')) return 'contact';
  return 'stranger';
}
