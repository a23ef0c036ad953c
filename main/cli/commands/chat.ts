import { createInterface } from 'node:readline';
import type { AgentEvent } from '../../agent/events.js';
import type { ApprovalView } from '../../common/approvals.js';
import { OWNER } from '../../common/messages.js';
import { compose } from '../../compose.js';
import { approvalPromptText, formatApprovalCard, parseApprovalAnswer } from '../approval-card.js';
import { EXIT, type CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';

const CHAT_HELP = 'Commands: /new starts a fresh session, /exit quits (or Ctrl-D). Ctrl-C stops the current turn.\n';

export async function chatCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs('chat', args, { new: { type: 'boolean', default: false } }, { min: 0, max: 0, usage: '[--new]' });
  const services = await compose({ env: io.env });
  const tty = io.stdout.isTTY === true && io.stdin.isTTY === true;
  const style = (code: string, text: string): string => (tty ? `\u001b[${code}m${text}\u001b[0m` : text);
  const cardStyle = { bold: (t: string) => style('1', t), dim: (t: string) => style('2', t), warn: (t: string) => style('1;33', t) };

  let sessionId = services.sessions.current('local', values.new);
  let turn: AbortController | undefined;
  let lastInterrupt = 0;
  // Piped input (a script) learns from the exit code whether every turn was answered.
  let failed = false;

  const rl = createInterface({ input: io.stdin, output: io.stdout, terminal: tty, prompt: style('1', 'you › ') });

  // Lines go to a pending approval question first, otherwise into the queue of things the owner said.
  const queue: string[] = [];
  let closed = false;
  let wakeReader: (() => void) | undefined;
  const approvalQueue: ApprovalView[] = [];
  let answerApproval: ((line: string) => void) | undefined;
  rl.on('line', (line) => {
    if (answerApproval) answerApproval(line);
    else queue.push(line);
    wakeReader?.();
  });
  rl.on('close', () => {
    closed = true;
    // End of input while a question is open is a "no".
    answerApproval?.('');
    wakeReader?.();
  });
  // Piped input may end while a turn is still running; a closed readline throws on prompt().
  const prompt = (): void => {
    if (!closed) rl.prompt();
  };
  const nextLine = async (): Promise<string | undefined> => {
    while (queue.length === 0 && !closed) await new Promise<void>((resolve) => (wakeReader = resolve));
    return queue.shift();
  };

  const askNextApproval = (): void => {
    const approval = approvalQueue[0];
    if (!approval || answerApproval) return;
    io.stdout.write(`\n${formatApprovalCard(approval, cardStyle)}${approvalPromptText(approval)}`);
    answerApproval = (line) => {
      answerApproval = undefined;
      approvalQueue.shift();
      const { decision, grantMinutes } = parseApprovalAnswer(line, approval);
      const result = services.gate.decide(approval.id, decision, 'terminal', grantMinutes ? { grantMinutes } : {});
      io.stdout.write(style('2', result.ok ? `  ${decision === 'approve' ? 'Approved' : 'Denied'}.\n` : `  ${result.message}\n`));
      askNextApproval();
    };
    // Input that ended before this question (a script piped in) can never answer it: that is a "no", not a wait
    // until the approval expires.
    if (closed) {
      io.stdout.write(style('2', '\n  (input ended)'));
      answerApproval('');
    }
  };
  const stopApprovals = services.events.on('approval', (approval) => {
    approvalQueue.push(approval);
    askNextApproval();
  });
  const stopAlerts = services.events.on('alert', (message) => io.stdout.write(style('1;31', `\n${message}\n`)));

  const interrupt = (): void => {
    if (turn) {
      turn.abort();
      return;
    }
    const now = Date.now();
    if (now - lastInterrupt < 2000) rl.close();
    else {
      lastInterrupt = now;
      io.stdout.write(`\n${style('2', '(Ctrl-C again or /exit to quit)')}\n`);
      prompt();
    }
  };
  rl.on('SIGINT', interrupt);
  process.on('SIGINT', interrupt);

  const { provider, name } = services.config.model;
  io.stdout.write(`Pavise · ${name} via ${provider} · session ${sessionId.slice(0, 8)}\n${CHAT_HELP}`);
  prompt();

  try {
    for (let raw = await nextLine(); raw !== undefined; raw = await nextLine()) {
      const line = raw.trim();
      if (line === '') {
        prompt();
        continue;
      }
      if (line === '/exit' || line === '/quit') break;
      if (line === '/help') {
        io.stdout.write(CHAT_HELP);
        prompt();
        continue;
      }
      if (line === '/new') {
        sessionId = services.sessions.current('local', true);
        io.stdout.write(style('2', `New session ${sessionId.slice(0, 8)}.\n`));
        prompt();
        continue;
      }

      turn = new AbortController();
      let midLine = false;
      const onEvent = (event: AgentEvent): void => {
        switch (event.type) {
          case 'text_delta':
            if (!midLine) io.stdout.write(style('36', 'pavise › '));
            midLine = true;
            io.stdout.write(event.text);
            break;
          case 'tool_start':
            if (midLine) io.stdout.write('\n');
            midLine = false;
            io.stdout.write(style('2', `  ⚙ ${event.name} ${compactJson(event.input)}\n`));
            break;
          case 'tool_end':
            io.stdout.write(style('2', `  ${event.isError ? '✗' : '✓'} ${event.name}${event.isError ? `: ${firstLine(event.content)}` : ''}\n`));
            break;
          case 'retry':
            io.stdout.write(style('2', `  … ${event.reason}; retrying in ${Math.ceil(event.delayMs / 1000)} s\n`));
            break;
          default:
            break;
        }
      };
      const result = await services.runner.run({ sessionKey: sessionId, text: line, trigger: OWNER, toolset: services.tools, signal: turn.signal, onEvent });
      turn = undefined;
      if (midLine) io.stdout.write('\n');
      if (result.stopReason === 'aborted') io.stdout.write(style('33', 'Stopped. Your message is kept; send another to continue.\n'));
      else if (result.error) {
        failed = true;
        (tty ? io.stdout : io.stderr).write(style('31', `${result.error.message}\n`));
      }
      prompt();
    }
  } finally {
    stopApprovals();
    stopAlerts();
    process.off('SIGINT', interrupt);
    rl.close();
    services.close();
  }
  io.stdout.write('\n');
  return failed && !tty ? EXIT.failure : EXIT.ok;
}

function compactJson(value: unknown): string {
  const json = JSON.stringify(value) ?? '';
  return json.length > 160 ? `${json.slice(0, 157)}…` : json;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}
