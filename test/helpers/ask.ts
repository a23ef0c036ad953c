import { OWNER, type Provenance } from '../../main/common/messages.js';
import type { AgentEvent } from '../../main/agent/events.js';
import type { Core } from '../../main/compose.js';
import type { TurnOutcome } from '../../main/runtime/turn-runner.js';
import type { ToolRegistry } from '../../main/tools/registry.js';

/** One turn through the core's TurnRunner, as the owner with every tool unless the test says otherwise. */
export function ask(
  core: Pick<Core, 'runner' | 'tools'>,
  sessionId: string,
  text: string,
  options: { signal?: AbortSignal; onEvent?: (event: AgentEvent) => void; provenance?: Provenance; tools?: ToolRegistry } = {},
): Promise<TurnOutcome> {
  return core.runner.run({
    sessionKey: sessionId,
    text,
    trigger: options.provenance ?? OWNER,
    toolset: options.tools ?? core.tools,
    signal: options.signal ?? new AbortController().signal,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
}
