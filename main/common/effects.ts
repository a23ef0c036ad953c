/**
 * What a tool call does to the world. Every tool declares the kinds of effect it may have; for one call it says
 * which concrete effects (with their targets) it will have. The permission gate decides on the concrete effects.
 * A tool with no effects declares an empty list explicitly — a missing declaration does not load.
 */
export type EffectKind =
  | 'read_private'
  | 'write_local'
  | 'send_message'
  | 'execute'
  | 'network'
  | 'spend'
  | 'modify_calendar'
  | 'delete'
  | 'control_device';

export const EFFECT_KINDS: readonly EffectKind[] = [
  'read_private',
  'write_local',
  'send_message',
  'execute',
  'network',
  'spend',
  'modify_calendar',
  'delete',
  'control_device',
];

export type Effect =
  | { readonly kind: 'read_private'; readonly what: string }
  | { readonly kind: 'write_local'; readonly what: string; readonly path?: string }
  | {
      readonly kind: 'send_message';
      readonly channel: string;
      readonly recipient: string;
      readonly text: string;
      /** How the call named the recipient when it was resolved from a name ("Alice" → a conversation id). */
      readonly via?: string;
      /** The known conversation's name ("Alice Smith"), so "text Alice" counts as the owner naming her. */
      readonly name?: string;
    }
  | {
      readonly kind: 'execute';
      readonly argv: readonly string[];
      readonly cwd?: string;
      /** Set by the host, never by a template: the program argv[0] resolves to (after links) and its SHA-256. */
      readonly executable?: string;
      readonly sha256?: string;
      /** Set by the host: the argv matched the owner's read-only command list and runs in a read-only box. */
      readonly readOnly?: boolean;
      /**
       * The call asks for the host's network in its box (all or nothing: the host cannot see which servers a program
       * contacts). Present only when true; such a command always asks and is never read-only.
       */
      readonly network?: boolean;
    }
  | { readonly kind: 'network'; readonly host: string; readonly url?: string; readonly method?: string; readonly body?: string }
  | { readonly kind: 'spend'; readonly amountUsd: number; readonly what: string }
  | { readonly kind: 'modify_calendar'; readonly what: string }
  | { readonly kind: 'delete'; readonly target: string }
  /**
   * A smart-home device: its entity id ("light.kitchen"), the service called on it ("light.turn_off") and the service
   * data as sent (JSON), which can name what the device fetches (a URL to play), says (a notification) or also acts on.
   */
  | { readonly kind: 'control_device'; readonly entity: string; readonly action: string; readonly data?: string };

/**
 * Devices whose control is always asked for at high risk and never granted for a time: locks, alarms, cameras,
 * covers (garage doors, gates), sirens, and any entity whose id names a door, garage, gate or lock.
 */
export function isHighRiskDevice(entity: string): boolean {
  const [domain = '', id = ''] = entity.toLowerCase().split('.', 2);
  if (['lock', 'alarm_control_panel', 'camera', 'cover', 'siren', 'valve'].includes(domain)) return true;
  return /door|garage|gate|lock/.test(id);
}

/** Devices that may be controlled without asking when the owner named them, and granted for an hour: lights and media. */
export function isEverydayDevice(entity: string): boolean {
  const domain = entity.toLowerCase().split('.', 1)[0] ?? '';
  return (domain === 'light' || domain === 'media_player') && !isHighRiskDevice(entity);
}

/**
 * Whether a service acts on the device alone: its own domain's service (light.turn_off on a light), or Home
 * Assistant's generic on, off and toggle of that entity. Any other homeassistant.* service (stop, restart, reload)
 * runs Home Assistant itself, whatever entity the call names.
 */
export function isDeviceOwnService(entity: string, action: string): boolean {
  const domain = entity.toLowerCase().split('.', 1)[0] ?? '';
  const [serviceDomain = '', service = ''] = action.toLowerCase().split('.', 2);
  if (serviceDomain === domain) return true;
  return serviceDomain === 'homeassistant' && ['turn_on', 'turn_off', 'toggle'].includes(service);
}

export type Risk = 'low' | 'medium' | 'high';

export const RISK_ORDER: Readonly<Record<Risk, number>> = { low: 0, medium: 1, high: 2 };

export function maxRisk(a: Risk, b: Risk): Risk {
  return RISK_ORDER[a] >= RISK_ORDER[b] ? a : b;
}

/** An entity id as Home Assistant writes them: `domain.object_id`, lower case, digits and underscores. */
export const ENTITY_ID = /^[a-z_]+\.[a-z0-9_]+$/;

/**
 * What a device's service data points at besides the device: the web addresses it would have the device (and Home
 * Assistant, on the owner's network) fetch, and the other devices it names. Both are targets the gate decides on.
 */
export function deviceDataTargets(effect: Extract<Effect, { kind: 'control_device' }>): { readonly urls: readonly string[]; readonly entities: readonly string[] } {
  if (effect.data === undefined) return { urls: [], entities: [] };
  let values: unknown[];
  try {
    const parsed: unknown = JSON.parse(effect.data);
    values = parsed !== null && typeof parsed === 'object' ? Object.values(parsed) : [parsed];
  } catch {
    values = [effect.data];
  }
  const urls = new Set<string>();
  const entities = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string') continue;
    const trimmed = value.trim();
    // Any scheme with an authority but media-source://, which names a file Home Assistant already has.
    for (const match of trimmed.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi)) if (!/^media-source:/i.test(match[0])) urls.add(match[0]);
    if (ENTITY_ID.test(trimmed.toLowerCase()) && trimmed.toLowerCase() !== effect.entity.toLowerCase()) entities.add(trimmed.toLowerCase());
  }
  return { urls: [...urls], entities: [...entities] };
}
