import { callThroughGate, type OwnerToolCallDeps } from '../runtime/owner-tool-call.js';
import type { InstalledSkills } from '../skills/installed-skills.js';
import { qualifiedToolName } from '../skills/tool-descriptor.js';
import type { RegisteredTool, ToolRegistry } from '../tools/registry.js';
import type { WeatherSource } from './sources.js';

export interface SkillWeatherDeps extends OwnerToolCallDeps {
  readonly tools: Pick<ToolRegistry, 'ready' | 'get' | 'validate' | 'call'>;
  readonly skills: Pick<InstalledSkills, 'get'>;
}

export interface WeatherPlace {
  readonly latitude: number;
  readonly longitude: number;
}

const SKILL = 'weather';
const TOOL = 'forecast';
/** A forecast that asks for approval, or a slow network, does not hold the briefing longer than this. */
const WEATHER_TIMEOUT_MS = 60_000;

/**
 * Today's weather from the weather skill (skills/weather) for the place the owner configured for the briefing
 * (`schedule.briefing.weather`), called as `pavise skills call weather.forecast` calls it: through the gate, the
 * skill in its sandbox, its request through the broker to the hosts the owner granted it. No such skill enabled, or
 * no place configured: no weather, and no error. The result is the skill's output, labelled as such by the gate.
 */
export function skillWeather(deps: SkillWeatherDeps, place: WeatherPlace | undefined): WeatherSource {
  return {
    async today(signal) {
      if (!place || deps.skills.get(SKILL)?.state !== 'enabled') return undefined;
      await deps.tools.ready();
      const tool = deps.tools.get(qualifiedToolName(SKILL, TOOL));
      if (!tool) return undefined;
      const input = deps.tools.validate(tool, { latitude: place.latitude, longitude: place.longitude, days: 1 });
      if (!input.success) throw new Error(`the configured place does not fit the weather skill: ${input.problems}`);
      // The owner's standing request: they turned the weather on for their briefing, at this place, from the hosts
      // they granted the skill when they installed it. A host they did not grant is not named (nor asked about at
      // briefing time): the line says what to do instead.
      const hosts = hostsOf(tool);
      const granted = grantedHosts(deps.skills.get(SKILL)?.granted);
      const refused = hosts.filter((host) => !granted.includes(host));
      if (hosts.length === 0 || refused.length > 0) {
        throw new Error(`it may not reach ${refused.join(', ') || 'any fixed host'}; review its permissions in Settings › Skills`);
      }
      const ownerText =
        `My morning briefing includes the weather (schedule.briefing.weather in my config): ` +
        `${SKILL}.${TOOL} at ${place.latitude}, ${place.longitude} from ${hosts.join(', ')}.`;
      const outcome = await callThroughGate(deps, tool, input.data, ownerText, AbortSignal.any([signal, AbortSignal.timeout(WEATHER_TIMEOUT_MS)]));
      if (!outcome.ok) throw new Error(outcome.reason);
      if (outcome.message.isError) throw new Error(outcome.message.content.split('\n')[0] ?? 'it failed');
      return summary(outcome.message.content);
    },
  };
}

/** The fixed hosts the tool declares it reaches (the skill's manifest, reviewed at install). */
function hostsOf(tool: RegisteredTool): string[] {
  return tool.descriptor.effects.flatMap((effect) => (effect.kind === 'network' && 'template' in effect.host ? [effect.host.template] : []));
}

/** The hosts the owner granted the skill at install (its stored grant). */
function grantedHosts(granted: unknown): string[] {
  const network = (granted as { network?: unknown } | undefined)?.network;
  return Array.isArray(network) ? network.filter((host): host is string => typeof host === 'string') : [];
}

/** The skill's "Now: …" line and today's line, as one line for the briefing. */
function summary(content: string): string {
  return content
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(0, 2)
    .join(' ');
}
