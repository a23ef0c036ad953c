import type { ChatEvent } from '../../../main/common/ipc.js';
import { call } from '../api.js';
import type { SliceCreator } from './types.js';

export type ChatItem =
  | { readonly kind: 'user'; readonly key: number; readonly text: string; readonly ts: number }
  | { readonly kind: 'assistant'; readonly key: number; readonly text: string; readonly ts: number; readonly streaming: boolean }
  | { readonly kind: 'tool'; readonly key: number; readonly name: string; readonly summary: string; readonly state: 'running' | 'done' | 'failed' }
  | { readonly kind: 'error'; readonly key: number; readonly text: string };

export interface ChatSlice {
  readonly chat: readonly ChatItem[];
  /** A turn started from here is running (from its `user` event until `done`). */
  readonly chatRunning: boolean;
  readonly chatSending: boolean;
  readonly chatHistoryLoaded: boolean;
  applyChatEvent(event: ChatEvent): void;
  sendChat(text: string): Promise<boolean>;
  stopChat(): Promise<void>;
  loadChatHistory(limit?: number): Promise<void>;
}

let nextKey = 1;

export const createChatSlice: SliceCreator<ChatSlice> = (set, get) => ({
  chat: [],
  chatRunning: false,
  chatSending: false,
  chatHistoryLoaded: false,

  applyChatEvent(event) {
    set((state) => {
      const chat = [...state.chat];
      switch (event.type) {
        case 'user':
          chat.push({ kind: 'user', key: nextKey++, text: event.text, ts: event.ts });
          return { chat, chatRunning: true };
        case 'text_delta': {
          const last = chat.at(-1);
          if (last?.kind === 'assistant' && last.streaming) chat[chat.length - 1] = { ...last, text: last.text + event.text };
          else chat.push({ kind: 'assistant', key: nextKey++, text: event.text, ts: Date.now(), streaming: true });
          return { chat };
        }
        case 'tool_start':
          endStreaming(chat);
          chat.push({ kind: 'tool', key: nextKey++, name: event.name, summary: event.summary, state: 'running' });
          return { chat };
        case 'tool_end': {
          for (let index = chat.length - 1; index >= 0; index--) {
            const item = chat[index];
            if (item?.kind === 'tool' && item.name === event.name && item.state === 'running') {
              chat[index] = { ...item, state: event.isError ? 'failed' : 'done' };
              break;
            }
          }
          return { chat };
        }
        case 'done': {
          endStreaming(chat);
          // Tools still "running" when the turn ended were refused or stopped.
          for (const [index, item] of chat.entries()) if (item.kind === 'tool' && item.state === 'running') chat[index] = { ...item, state: 'failed' };
          const last = chat.at(-1);
          const streamed = last?.kind === 'assistant';
          if (!streamed && event.reply.trim()) chat.push({ kind: 'assistant', key: nextKey++, text: event.reply, ts: event.ts, streaming: false });
          if (event.error) chat.push({ kind: 'error', key: nextKey++, text: event.error });
          return { chat, chatRunning: false };
        }
      }
    });
  },

  async sendChat(text) {
    const trimmed = text.trim();
    if (!trimmed || get().chatSending) return false;
    set({ chatSending: true });
    const result = await call((api) => api.sendChat({ text: trimmed }));
    set((state) => ({
      chatSending: false,
      ...(result.ok ? {} : { chat: [...state.chat, { kind: 'error' as const, key: nextKey++, text: result.message }] }),
    }));
    return result.ok;
  },

  async stopChat() {
    const result = await call((api) => api.abortChat());
    if (!result.ok) set((state) => ({ chat: [...state.chat, { kind: 'error' as const, key: nextKey++, text: `Could not stop: ${result.message}` }] }));
  },

  async loadChatHistory(limit = 20) {
    const result = await call((api) => api.chatHistory({ limit }));
    if (!result.ok) {
      set({ chatHistoryLoaded: true });
      return;
    }
    const history: ChatItem[] = result.value.map((line) =>
      line.role === 'user'
        ? { kind: 'user', key: nextKey++, text: line.text, ts: line.ts }
        : { kind: 'assistant', key: nextKey++, text: line.text, ts: line.ts, streaming: false },
    );
    // Events that arrived while the history loaded come after it.
    set((state) => ({ chat: [...history, ...state.chat], chatHistoryLoaded: true }));
  },
});

function endStreaming(chat: ChatItem[]): void {
  const last = chat.at(-1);
  if (last?.kind === 'assistant' && last.streaming) chat[chat.length - 1] = { ...last, streaming: false };
}
