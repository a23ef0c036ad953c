import type { ChannelId } from '../channels/channel.js';
import type { Config } from '../common/config-schema.js';
import type { ChannelStore, SenderRole } from './channel-store.js';
import { canonicalHandle, phoneTail, sameHandle } from './identity.js';

/** Who a sender is: an owner (config or paired), an approved contact, or a stranger. */
export function roleOf(config: Config, store: ChannelStore, channel: ChannelId, sender: string): Exclude<SenderRole, 'self'> {
  const configured = channel === 'imessage' ? config.channels.imessage.owners : config.channels.telegram.owners;
  if (isConfiguredOwner(configured, sender)) return 'owner';
  const known = store.identities().filter((identity) => identity.channel === channel && sameHandle(identity.identity, sender));
  if (known.some((identity) => identity.role === 'owner')) return 'owner';
  if (known.some((identity) => identity.role === 'contact')) return 'contact';
  return 'stranger';
}

/** The configured owners in the forms sameHandle compares, worked out once per list: roleOf runs for every message. */
const ownerForms = new WeakMap<readonly string[], { readonly canonical: Set<string>; readonly tails: Set<string> }>();

function isConfiguredOwner(owners: readonly string[], sender: string): boolean {
  let forms = ownerForms.get(owners);
  if (!forms) {
    const canonical = new Set(owners.map(canonicalHandle));
    forms = { canonical, tails: new Set([...canonical].map(phoneTail).filter((tail) => tail !== undefined)) };
    ownerForms.set(owners, forms);
  }
  const handle = canonicalHandle(sender);
  if (forms.canonical.has(handle)) return true;
  const tail = phoneTail(handle);
  return tail !== undefined && forms.tails.has(tail);
}
