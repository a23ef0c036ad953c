import { createInterface } from 'node:readline';
import { OWNER, toolCallsOf, type Message } from '../../common/messages.js';
import { compose } from '../../compose.js';
import { approvalPromptText, formatApprovalCard, parseApprovalAnswer } from '../approval-card.js';
import { EXIT, type CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';

export async function askCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'ask',
    args,
    { json: { type: 'boolean', default: false }, new: { type: 'boolean', default: false } },
    { min: 1, max: 1, usage: '"TEXT" [--json] [--new]' },
  );
  const text = positionals[0] ?? '';
  if (text.trim() === '') {
    io.stderr.write('pavise: nothing to ask: give the text in quotes, e.g. pavise ask "what time is it?"\n');
    return EXIT.usage;
  }

  const services = await compose({ env: io.env });
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  const interactive = io.stdin.isTTY === true;
  const stopListening = services.events.on('approval', (approval) => {
    io.stderr.write(formatApprovalCard(approval));
    if (interactive) {
      const rl = createInterface({ input: io.stdin, output: io.stderr });
      rl.question(approvalPromptText(approval), (answer) => {
        rl.close();
        const { decision, grantMinutes } = parseApprovalAnswer(answer, approval);
        const result = services.gate.decide(approval.id, decision, 'terminal', grantMinutes ? { grantMinutes } : {});
        if (!result.ok) io.stderr.write(`pavise: ${result.message}\n`);
      });
    } else {
      io.stderr.write(`Waiting for your decision: run \`pavise approvals approve ${approval.id}\` or \`pavise approvals deny ${approval.id}\` in another terminal.\n`);
    }
  });
  const stopAlerts = services.events.on('alert', (message) => io.stderr.write(`pavise: ${message}\n`));
  try {
    const sessionId = services.sessions.current('local', values.new);
    const result = await services.runner.run({ sessionKey: sessionId, text, trigger: OWNER, toolset: services.tools, signal: controller.signal });
    if (values.json) {
      io.stdout.write(
        `${JSON.stringify({
          reply: result.reply,
          toolCalls: summarizeToolCalls(result.messages),
          usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens },
          sessionId,
          ...(result.error ? { error: { code: result.error.code, message: result.error.message } } : {}),
        })}\n`,
      );
    } else {
      if (result.reply) io.stdout.write(`${result.reply}\n`);
      if (result.error) io.stderr.write(`pavise: ${result.error.message}\n`);
    }
    return result.error ? EXIT.failure : EXIT.ok;
  } finally {
    stopListening();
    stopAlerts();
    process.off('SIGINT', onSigint);
    services.close();
  }
}

export function summarizeToolCalls(messages: readonly Message[]) {
  const results = new Map<string, boolean>();
  for (const message of messages) if (message.role === 'toolResult') results.set(message.toolCallId, message.isError);
  return messages.flatMap((message) =>
    message.role === 'assistant'
      ? toolCallsOf(message).map((call) => ({ name: call.name, input: call.input, isError: results.get(call.id) ?? true }))
      : [],
  );
}
