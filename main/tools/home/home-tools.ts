import { z } from 'zod';
import { runProcess } from '../../platform/run-process.js';
import type { ToolResult } from '../source.js';
import { defineTool, type Tool } from '../tool.js';
import { ENTITY_ID, HomeError, type HomeAssistantClient } from './home-assistant.js';

export interface HomeToolDeps {
  readonly assistant?: HomeAssistantClient;
  /** The Shortcuts the owner listed (`home.shortcuts`); only these run. */
  readonly shortcuts: readonly string[];
  readonly platform: NodeJS.Platform;
}

/** Domains whose states are a fixed vocabulary (on/off, locked, playing…), safe to show next to the ids. */
const ENUM_STATE_DOMAINS = new Set(['light', 'switch', 'fan', 'media_player', 'lock', 'cover', 'climate', 'alarm_control_panel', 'binary_sensor', 'camera', 'siren', 'vacuum']);
/**
 * Service data keys Home Assistant reads as more targets (every light in an area, a device's every entity): the card
 * names one entity, so the call acts on that one only.
 */
const TARGET_KEYS: ReadonlySet<string> = new Set(['entity_id', 'device_id', 'area_id', 'floor_id', 'label_id']);
const SERVICE_DATA_VALUE = z.union([z.string().max(200), z.number(), z.boolean()]);
const entity = z.string().regex(ENTITY_ID, 'must be an entity id such as light.kitchen').describe('The entity id, from list_devices.');

const listInput = z.object({ domain: z.string().regex(/^[a-z_]+$/).optional().describe('Only this kind, e.g. light, media_player, lock.') });
const stateInput = z.object({ entity });
const serviceInput = z.object({
  domain: z.string().regex(/^[a-z_]+$/).describe('The service domain, e.g. light.'),
  service: z.string().regex(/^[a-z_]+$/).describe('The service, e.g. turn_off.'),
  entity,
  data: z
    .record(z.string().regex(/^[a-z_]+$/), SERVICE_DATA_VALUE)
    .refine((data) => !Object.keys(data).some((key) => TARGET_KEYS.has(key)), {
      message: `may not name other targets (${[...TARGET_KEYS].join(', ')}): a call acts on its one entity`,
    })
    .optional()
    .describe('Service data, e.g. { "brightness_pct": 30 }.'),
});
const shortcutInput = z.object({ name: z.string().min(1).max(200).describe('The exact name of a shortcut the owner listed.') });

function failed(error: unknown): ToolResult {
  if (error instanceof HomeError) return { content: error.message, isError: true };
  throw error;
}

/** `list_devices`, `get_state`, `call_service` (Home Assistant) and `run_shortcut` (macOS Shortcuts). */
export function createHomeTools(deps: HomeToolDeps): readonly Tool[] {
  const tools: Tool[] = [];
  const assistant = deps.assistant;
  if (assistant) {
    tools.push(
      defineTool({
        name: 'list_devices',
        description: 'List the smart-home devices in Home Assistant by entity id (with their on/off-style state).',
        input: listInput,
        effects: [{ kind: 'read_private', what: { template: 'your home devices' } }],
        summary: ['List your {domain} devices', 'List your home devices'],
        // Entity ids and enumerated states only: no names or free text, which others can set, reach the model here.
        output: { kind: 'trigger' },
        execute: async ({ domain }, { signal }) => {
          try {
            const states = (await assistant.states(signal)).filter((item) => ENTITY_ID.test(item.entity_id) && (!domain || item.entity_id.startsWith(`${domain}.`)));
            if (states.length === 0) return domain ? `No ${domain} devices.` : 'No devices.';
            return states
              .map((item) => {
                const kind = item.entity_id.split('.')[0] ?? '';
                const state = ENUM_STATE_DOMAINS.has(kind) && /^[a-z_]{1,20}$/.test(item.state) ? `: ${item.state}` : '';
                return `${item.entity_id}${state}`;
              })
              .join('\n');
          } catch (error) {
            return failed(error);
          }
        },
      }),
      defineTool({
        name: 'get_state',
        description: "One device's state and attributes (its name, brightness, temperature…).",
        input: stateInput,
        effects: [{ kind: 'read_private', what: { template: 'your home devices' } }],
        summary: 'Read the state of {entity}',
        output: { kind: 'untrusted', source: 'tool_output', detail: 'Home Assistant device names and attributes' },
        execute: async ({ entity: id }, { signal }) => {
          try {
            const state = await assistant.state(id, signal);
            return JSON.stringify({ entity: state.entity_id, state: state.state, attributes: state.attributes, lastChanged: state.last_changed });
          } catch (error) {
            return failed(error);
          }
        },
      }),
      defineTool({
        name: 'call_service',
        description: 'Control a device through a Home Assistant service (light.turn_off, media_player.media_pause, lock.unlock…).',
        input: serviceInput,
        // The data is part of the effect: what a device is told to fetch, say or also act on is decided and shown.
        effects: [{ kind: 'control_device', entity: { arg: 'entity' }, action: { template: '{domain}.{service}' }, data: { template: '{data}' } }],
        summary: 'Call {domain}.{service} on {entity}[ with {data}]',
        output: { kind: 'trigger' },
        execute: async ({ domain, service, entity: id, data }, { signal }) => {
          const own = id.split('.')[0];
          if (domain !== own && domain !== 'homeassistant') return { content: `${domain}.${service} is not a service of ${id} (its domain is ${own}).`, isError: true };
          try {
            await assistant.callService(domain, service, { ...data, entity_id: id }, signal);
            return `Called ${domain}.${service} on ${id}.`;
          } catch (error) {
            return failed(error);
          }
        },
      }),
    );
  }
  if (deps.platform === 'darwin' && deps.shortcuts.length > 0) {
    tools.push(
      defineTool({
        name: 'run_shortcut',
        description: `Run one of the owner's listed macOS Shortcuts (HomeKit scenes): ${deps.shortcuts.join(', ')}.`,
        input: shortcutInput,
        effects: [{ kind: 'control_device', entity: { template: 'shortcut.{name}' }, action: { template: 'shortcuts run' } }],
        summary: 'Run the shortcut "{name}"',
        output: { kind: 'trigger' },
        execute: async ({ name }, { signal }) => {
          if (!deps.shortcuts.includes(name)) return { content: `"${name}" is not one of the shortcuts the owner listed (${deps.shortcuts.join(', ')}).`, isError: true };
          const result = await runProcess('/usr/bin/shortcuts', ['run', name], { signal, timeoutMs: 60_000 });
          if (!result.ok) return { content: `The shortcut "${name}" failed: ${result.message}`, isError: true };
          return `Ran the shortcut "${name}".`;
        },
      }),
    );
  }
  return tools;
}
