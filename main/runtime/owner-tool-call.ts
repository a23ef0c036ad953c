import { randomUUID } from 'node:crypto';
import type { ToolCallRequest } from '../agent/loop.js';
import { OWNER, type Message, type ToolResultMessage } from '../common/messages.js';
import type { PermissionGate } from '../permissions/gate.js';
import type { SessionStore } from '../storage/session-store.js';
import type { RegisteredTool, ToolRegistry } from '../tools/registry.js';

export interface OwnerToolCallDeps {
  readonly gate: Pick<PermissionGate, 'check' | 'afterToolCall'>;
  readonly tools: Pick<ToolRegistry, 'call'>;
  readonly sessions: Pick<SessionStore, 'current'>;
}

/**
 * One tool call the owner asked for by name (`pavise skills call`, or a standing instruction in their config such as
 * the briefing's weather), through the same gate and registry a turn uses: the gate decides on the host's evaluation
 * of the input (and may ask), the tool runs, the gate scrubs and records the result. `ownerText` is the owner's own
 * words the call is judged against.
 */
export async function callThroughGate(
  core: OwnerToolCallDeps,
  tool: RegisteredTool,
  input: unknown,
  ownerText: string,
  signal: AbortSignal = new AbortController().signal,
): Promise<{ ok: true; message: ToolResultMessage } | { ok: false; reason: string }> {
  const frozen = Object.freeze(input);
  const sessionId = core.sessions.current('local', false);
  const callId = `owner-${randomUUID()}`;
  const context: Message[] = [{ role: 'user', content: ownerText, provenance: OWNER, timestamp: Date.now() }];
  const request: ToolCallRequest = { sessionId, call: { type: 'toolCall', id: callId, name: tool.name, input: frozen }, tool, input: frozen, context, signal };
  const decision = await core.gate.check(request);
  if (decision.action === 'deny') return { ok: false, reason: decision.reason };
  const result = await core.tools.call(tool, frozen, { sessionId, callId, signal });
  const raw: ToolResultMessage = { role: 'toolResult', toolCallId: callId, toolName: tool.name, content: result.content, isError: result.isError ?? false, provenance: result.provenance ?? OWNER, timestamp: Date.now() };
  return { ok: true, message: core.gate.afterToolCall(raw, request) };
}
