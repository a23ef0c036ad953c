import type { ChannelId } from '../common/channels.js';
import type { Config } from '../common/config-schema.js';
import { roleOf } from '../identity/roles.js';
import type { ChannelStore } from '../storage/channel-store.js';
import type { DeliveryTarget } from '../storage/job-store.js';

/**
 * The owner's chats a scheduled message may go to, best first: the configured channel, then the chat the job was
 * asked in, then any other private chat with the owner (a failure on one is told on the next). Only the owner's
 * own private chats: a job never writes to anyone else.
 */
export function ownerTargets(config: Config, channels: ChannelStore, asked: DeliveryTarget | undefined): DeliveryTarget[] {
  const isOwnerChat = (target: DeliveryTarget): boolean => {
    const conversation = channels.conversation(target.channel, target.conversationId);
    if (conversation?.isGroup) return false;
    const handle = target.conversationId.split(';').at(-1) ?? target.conversationId;
    return roleOf(config, channels, target.channel, handle) === 'owner';
  };
  const known = channels
    .conversations(500)
    .filter((conversation) => !conversation.isGroup)
    .map((conversation): DeliveryTarget => ({ channel: conversation.channel, conversationId: conversation.conversationId }));
  // A paired or configured Telegram owner's private chat has the user's id, even before Pavise has seen it.
  const telegramOwners = [...config.channels.telegram.owners, ...channels.identities('owner').filter((item) => item.channel === 'telegram').map((item) => item.identity)];
  // A configured iMessage owner is reachable by the 1:1 chat of their handle.
  const imessageOwners = config.channels.imessage.owners.map((handle): DeliveryTarget => ({ channel: 'imessage', conversationId: `iMessage;-;${handle}` }));
  const candidates: DeliveryTarget[] = [
    ...(asked ? [asked] : []),
    ...known,
    ...imessageOwners,
    ...telegramOwners.map((id): DeliveryTarget => ({ channel: 'telegram', conversationId: id })),
  ];
  const enabled = (channel: ChannelId) => config.channels[channel].enabled;
  const unique = new Map<string, DeliveryTarget>();
  for (const target of candidates) {
    if (!enabled(target.channel) || !isOwnerChat(target)) continue;
    unique.set(`${target.channel}\u0000${target.conversationId}`, target);
  }
  const list = [...unique.values()];
  const preferred = config.schedule.deliverTo;
  if (preferred === 'asked') return list;
  return [...list.filter((target) => target.channel === preferred), ...list.filter((target) => target.channel !== preferred)];
}
