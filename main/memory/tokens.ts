import type { Message } from '../common/messages.js';

/**
 * A token estimate without a tokenizer: about four characters a token for English text and JSON, plus a few tokens of
 * framing per message. It only has to rank and budget; the provider's reported usage is the truth.
 */
const CHARS_PER_TOKEN = 4;
const PER_MESSAGE = 4;

export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

export function estimateMessageTokens(message: Message): number {
  if (message.role !== 'assistant') return PER_MESSAGE + estimateTextTokens(message.content);
  let total = PER_MESSAGE;
  for (const block of message.content) {
    total += block.type === 'text' ? estimateTextTokens(block.text) : estimateTextTokens(block.name + (JSON.stringify(block.input) ?? ''));
  }
  return total;
}

export function estimateTokens(messages: readonly Message[]): number {
  let total = 0;
  for (const message of messages) total += estimateMessageTokens(message);
  return total;
}
