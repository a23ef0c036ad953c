import type { AssistantMessage, Message, Usage } from '../common/messages.js';
import type { ModelRequest, Provider, ProviderId } from '../llm/provider.js';

/** USD per million tokens. Public list prices; cache reads and writes priced as the providers bill them. */
export interface Price {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
}

const PRICES: readonly { readonly match: RegExp; readonly price: Price }[] = [
  { match: /claude-3-opus|claude-opus-4(?:-1)?(?:-\d{8})?$/, price: { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 } },
  { match: /claude-opus/, price: { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 } },
  { match: /claude-(?:3-5-|3-7-)?sonnet|claude-sonnet/, price: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 } },
  { match: /claude-(?:3-5-)?haiku|claude-haiku-4/, price: { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 } },
  { match: /^gpt-4\.1-nano/, price: { input: 0.1, output: 0.4, cacheRead: 0.025, cacheWrite: 0.1 } },
  { match: /^gpt-4\.1-mini/, price: { input: 0.4, output: 1.6, cacheRead: 0.1, cacheWrite: 0.4 } },
  { match: /^gpt-4\.1/, price: { input: 2, output: 8, cacheRead: 0.5, cacheWrite: 2 } },
  { match: /^gpt-4o-mini/, price: { input: 0.15, output: 0.6, cacheRead: 0.075, cacheWrite: 0.15 } },
  { match: /^gpt-4o/, price: { input: 2.5, output: 10, cacheRead: 1.25, cacheWrite: 2.5 } },
  { match: /^gpt-5-nano/, price: { input: 0.05, output: 0.4, cacheRead: 0.005, cacheWrite: 0.05 } },
  { match: /^gpt-5-mini/, price: { input: 0.25, output: 2, cacheRead: 0.025, cacheWrite: 0.25 } },
  { match: /^gpt-5/, price: { input: 1.25, output: 10, cacheRead: 0.125, cacheWrite: 1.25 } },
];

/** An unknown hosted model is priced like the most expensive one we know, so the cap errs on the safe side. */
const UNKNOWN_PRICE: Price = { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 };
const FREE: Price = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

export function priceOf(provider: ProviderId | string, model: string, baseURL?: string): Price {
  if (provider === 'openai-compatible' && baseURL && isLocal(baseURL)) return FREE;
  return PRICES.find((entry) => entry.match.test(model))?.price ?? UNKNOWN_PRICE;
}

function isLocal(baseURL: string): boolean {
  try {
    const host = new URL(baseURL).hostname;
    return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
  } catch {
    return false;
  }
}

export interface TokenCounts {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
}

export function costUsd(price: Price, tokens: TokenCounts): number {
  return (
    (tokens.inputTokens * price.input +
      tokens.outputTokens * price.output +
      tokens.cacheReadTokens * price.cacheRead +
      tokens.cacheWriteTokens * price.cacheWrite) /
    1_000_000
  );
}

/**
 * The most one call can cost: every input character counted as a token (tokenizers average 3–4 characters a token,
 * so this over-estimates) billed as an uncached write, plus the full output allowance.
 */
export function worstCaseUsd(price: Price, request: ModelRequest): number {
  const characters = requestCharacters(request);
  const inputRate = Math.max(price.input, price.cacheWrite);
  return (characters * inputRate + request.maxOutputTokens * price.output) / 1_000_000;
}

function requestCharacters(request: ModelRequest): number {
  return request.system.length + JSON.stringify(request.tools).length + request.messages.reduce((sum, message) => sum + messageLength(message), 0);
}

/** Characters a token is counted as when the provider did not say (tokenizers average 3–4; fewer errs towards more). */
const CHARACTERS_PER_TOKEN = 3;

/**
 * The usage a call is recorded with, for the spend cap. A reply the provider reported no usage for (a compatible
 * server that ignores `include_usage`, a stream cut off before its final usage event) still cost money: an answer
 * that finished, or brought anything back, is counted at an estimate from the request and what came back wherever
 * the provider's own figures are missing or lower. A failure with nothing back (refused, unreachable) costs nothing.
 */
export function billedUsage(request: ModelRequest, answer: AssistantMessage): Usage {
  const reported = answer.usage;
  const failed = answer.stopReason === 'error' || answer.stopReason === 'aborted';
  if (failed && answer.content.length === 0) return reported;
  const outputEstimate = Math.ceil(JSON.stringify(answer.content).length / CHARACTERS_PER_TOKEN);
  const nothingReported = reported.inputTokens + reported.cacheReadTokens + reported.cacheWriteTokens === 0;
  return {
    ...reported,
    inputTokens: nothingReported ? Math.ceil(requestCharacters(request) / CHARACTERS_PER_TOKEN) : reported.inputTokens,
    // A finished answer's output count is the provider's; a cut-off one may predate most of what was written.
    outputTokens: failed || reported.outputTokens === 0 ? Math.max(reported.outputTokens, outputEstimate) : reported.outputTokens,
  };
}

/** A provider whose answers carry `billedUsage`: what every model call is recorded and capped with. */
export function metered(provider: Provider): Provider {
  return {
    id: provider.id,
    complete: async (request, options) => {
      const answer = await provider.complete(request, options);
      const usage = billedUsage(request, answer);
      return usage === answer.usage ? answer : { ...answer, usage };
    },
  };
}

function messageLength(message: Message): number {
  return message.role === 'assistant' ? JSON.stringify(message.content).length : message.content.length;
}

/** Local midnight, the start of "today" for the daily cap. */
export function startOfToday(now = Date.now()): number {
  const date = new Date(now);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}
