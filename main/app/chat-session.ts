import { OWNER, textOf, type AssistantMessage } from '../common/messages.js';
import type { ChatEvent, ChatLine } from '../common/ipc.js';
import type { TurnRunner } from '../runtime/turn-runner.js';
import type { SessionStore } from '../storage/session-store.js';
import type { ToolRegistry } from '../tools/registry.js';

export interface ChatSessionDeps {
  readonly sessions: Pick<SessionStore, 'current' | 'messages'>;
  readonly runner: Pick<TurnRunner, 'run'>;
  readonly tools: ToolRegistry;
}

/**
 * The popover's chat: one local session, one turn at a time, its progress told as ChatEvents. Turns run through
 * the TurnRunner as the owner.
 */
export class ChatSession {
  #turn: AbortController | undefined;
  #sessionId: string | undefined;

  constructor(
    private readonly deps: ChatSessionDeps,
    private readonly emit: (event: ChatEvent) => void,
    /** Told when a turn starts or ends (the tray shows "working"). */
    private readonly onRunningChanged: () => void,
  ) {}

  get running(): boolean {
    return this.#turn !== undefined;
  }

  /** Starts a turn and answers at once; false when one is already running. */
  send(text: string): boolean {
    if (this.#turn) return false;
    const sessionId = this.#session();
    const controller = new AbortController();
    this.#turn = controller;
    this.emit({ type: 'user', text, ts: Date.now() });
    this.onRunningChanged();
    void this.deps.runner
      .run({
        sessionKey: sessionId,
        text,
        trigger: OWNER,
        toolset: this.deps.tools,
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'text_delta') this.emit({ type: 'text_delta', text: event.text });
          else if (event.type === 'tool_start') this.emit({ type: 'tool_start', name: event.name, summary: this.#summary(event.name, event.input) });
          else if (event.type === 'tool_end') this.emit({ type: 'tool_end', name: event.name, isError: event.isError });
        },
      })
      .then(
        (result) => this.emit({ type: 'done', reply: result.reply, ...(result.error ? { error: result.error.message } : {}), ts: Date.now() }),
        (error: unknown) => this.emit({ type: 'done', reply: '', error: error instanceof Error ? error.message : String(error), ts: Date.now() }),
      )
      .finally(() => {
        this.#turn = undefined;
        this.onRunningChanged();
      });
    return true;
  }

  /** Stops the running turn; false when none was running. */
  abort(): boolean {
    const running = this.#turn !== undefined;
    this.#turn?.abort();
    return running;
  }

  history(limit: number): ChatLine[] {
    const lines: ChatLine[] = [];
    for (const message of this.deps.sessions.messages(this.#session())) {
      if (message.role === 'user') lines.push({ role: 'user', text: message.content, ts: message.timestamp });
      else if (message.role === 'assistant') {
        const text = historyText(message);
        if (text) lines.push({ role: 'assistant', text, ts: message.timestamp });
      }
    }
    return lines.slice(-limit);
  }

  #session(): string {
    this.#sessionId ??= this.deps.sessions.current('local');
    return this.#sessionId;
  }

  #summary(name: string, input: unknown): string {
    const tool = this.deps.tools.get(name);
    if (!tool) return name;
    const parsed = this.deps.tools.validate(tool, input);
    if (!parsed.success) return name;
    try {
      return this.deps.tools.evaluate(tool, parsed.data).title;
    } catch {
      // The arguments do not fit the tool's effect templates; the tool name is enough.
      return name;
    }
  }
}

/**
 * An answer as the chat shows it later: its words, or the error that ended it. Words the pause cut off are shown with
 * the pause notice after them: read back, a half answer must not look like a whole one.
 */
function historyText(message: AssistantMessage): string {
  const text = textOf(message);
  if (!text) return message.error ? message.error.message : '';
  return message.error?.code === 'paused' ? `${text}…\n\n${message.error.message}` : text;
}
