import type { z } from 'zod';
import type { Channel, ChannelId } from './channel.js';

/** What every channel's config section has: whether it runs, and who its owners are. */
export interface ChannelSection {
  readonly enabled: boolean;
  readonly owners: readonly string[];
}

/** What a plugin's `create` receives: its own parsed config section and the few host services a channel may use. */
export interface ChannelPluginDeps<C extends ChannelSection = ChannelSection> {
  readonly config: C;
  /** Names that address Pavise in a group chat. */
  readonly assistantNames: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** Reads a secret from the Keychain at the moment it is needed; a channel never keeps the value. */
  readonly secret: (name: string) => Promise<string | undefined>;
}

/**
 * One chat channel, self-described. A channel lives in its own folder (main/channels/<id>/) and is registered in the
 * one list of main/channels/registry.ts; nothing else names it.
 */
export interface ChannelPlugin<C extends ChannelSection = ChannelSection> {
  readonly id: ChannelId;
  /** The name the owner sees ("iMessage"). */
  readonly displayName: string;
  /** Its section of config.json's `channels`, parsed and defaulted. */
  readonly configSchema: z.ZodType<C>;
  create(deps: ChannelPluginDeps<C>): Channel;
  /** The form in which two handles of this channel are compared (an owner in config against a sender). */
  canonicalHandle(handle: string, region?: string): string | undefined;
  /** A conversation id as the owner reads it in a summary ("+15550001111", not "iMessage;-;+15550001111"). */
  describeTarget(target: string): string;
}
