/**
 * What a tool call does to the world. Every tool declares its effects; the permission gate (security issue)
 * decides on them. A tool with no effects declares an empty list explicitly — a missing declaration does not load.
 */
export type EffectKind =
  | 'read_private'
  | 'write_local'
  | 'send_message'
  | 'execute'
  | 'network'
  | 'spend'
  | 'modify_calendar'
  | 'delete';

export const EFFECT_KINDS: readonly EffectKind[] = [
  'read_private',
  'write_local',
  'send_message',
  'execute',
  'network',
  'spend',
  'modify_calendar',
  'delete',
];
