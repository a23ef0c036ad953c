import type { IpcResult } from '../../common/ipc.js';
import type { ChatSession } from '../chat-session.js';
import type { Handlers } from './handler.js';

export function chatHandlers(chat: Pick<ChatSession, 'send' | 'abort' | 'history'>): Handlers<'chat.send' | 'chat.abort' | 'chat.history'> {
  return {
    'chat.send': ({ text }): IpcResult<{ accepted: true }> =>
      chat.send(text) ? { ok: true, value: { accepted: true } } : { ok: false, code: 'busy', message: 'Pavise is still answering; wait for it or press Stop.' },
    'chat.abort': () => ({ aborted: chat.abort() }),
    'chat.history': ({ limit }) => chat.history(limit ?? 100),
  };
}
