import type { ChannelId } from '../common/channels.js';
import type { Config } from '../common/config-schema.js';
import type { ChannelStore, SenderRole } from '../storage/channel-store.js';
import { canonicalHandle, ownerRegion } from './handles.js';

/** Who a sender is: an owner (config or paired), an approved contact, or a stranger. */
export function roleOf(config: Config, store: ChannelStore, channel: ChannelId, sender: string): Exclude<SenderRole, 'self'> {
  // A channel without a section in config.json (one added by a test) has owners only by pairing.
  const configured: readonly string[] = (config.channels as unknown as Readonly<Record<string, { owners?: readonly string[] }>>)[channel]?.owners ?? [];
  const region = ownerRegion(config);
  const handle = canonicalHandle(channel, sender, region);
  if (handle === undefined) return 'stranger';
  if (canonicalOwners(channel, configured, region).has(handle)) return 'owner';
  const known = store.identities().filter((identity) => identity.channel === channel && canonicalHandle(channel, identity.identity, region) === handle);
  if (known.some((identity) => identity.role === 'owner')) return 'owner';
  if (known.some((identity) => identity.role === 'contact')) return 'contact';
  return 'stranger';
}

/**
 * The canonical forms of one channel's configured owners, kept while the list and region stay the same: parsing
 * every owner's phone number for every inbound message made a flood cost owners × messages parses.
 */
const ownersByChannel = new Map<string, { readonly key: string; readonly handles: ReadonlySet<string> }>();

function canonicalOwners(channel: ChannelId, owners: readonly string[], region: string): ReadonlySet<string> {
  const key = `${region}\n${owners.join('\n')}`;
  const cached = ownersByChannel.get(channel);
  if (cached?.key === key) return cached.handles;
  const handles = new Set<string>();
  for (const owner of owners) {
    const handle = canonicalHandle(channel, owner, region);
    if (handle !== undefined) handles.add(handle);
  }
  ownersByChannel.set(channel, { key, handles });
  return handles;
}
