import { ArrowUp, Check, LoaderCircle, Square, Wrench, X, CircleAlert } from 'lucide-react';
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { revealInvisible } from '../../../main/common/visible-text.js';
import type { ChatItem } from '../store/chat-slice.js';
import { usePavise } from '../store/store.js';

/** Quick chat: replies stream in as they are written; tool activity shows as lines; Stop while it runs. */
export function QuickChat() {
  const chat = usePavise(useShallow((state) => state.chat));
  const running = usePavise((state) => state.chatRunning || state.turnRunning);
  const sending = usePavise((state) => state.chatSending);
  const sendChat = usePavise((state) => state.sendChat);
  const stopChat = usePavise((state) => state.stopChat);
  const [draft, setDraft] = useState('');
  const logRef = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);

  useLayoutEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [chat]);

  useEffect(() => {
    const input = inputRef.current;
    if (!input) return;
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 88)}px`;
  }, [draft]);

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    if (!draft.trim() || running || sending) return;
    if (await sendChat(draft)) setDraft('');
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  };

  return (
    <section className="chat" aria-label="Chat with Pavise">
      {chat.length > 0 ? (
        <div className="chat-log" role="log" aria-live="polite" aria-label="Conversation" ref={logRef} tabIndex={0}>
          {chat.map((item) => (
            <ChatRow key={item.key} item={item} />
          ))}
        </div>
      ) : null}
      <form className="composer" onSubmit={(event) => void submit(event)}>
        <textarea
          ref={inputRef}
          className="composer-input"
          aria-label="Message Pavise"
          placeholder={running ? 'Pavise is working…' : 'Ask Pavise…'}
          rows={1}
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
        />
        {running ? (
          <button type="button" className="composer-button stop" aria-label="Stop" title="Stop" onClick={() => void stopChat()}>
            <Square size={12} strokeWidth={2.5} aria-hidden fill="currentColor" />
          </button>
        ) : (
          <button type="submit" className="composer-button" aria-label="Send" title="Send (⏎)" disabled={!draft.trim() || sending}>
            <ArrowUp size={16} strokeWidth={2} aria-hidden />
          </button>
        )}
      </form>
    </section>
  );
}

function ChatRow({ item }: { readonly item: ChatItem }) {
  switch (item.kind) {
    case 'user':
      return (
        <div className="msg msg-user">
          <span className="sr-only">You: </span>
          {item.text}
        </div>
      );
    case 'assistant':
      return (
        <div className={item.streaming ? 'msg msg-assistant streaming' : 'msg msg-assistant'} data-streaming={item.streaming ? 'true' : undefined}>
          <span className="sr-only">Pavise: </span>
          {item.text}
        </div>
      );
    case 'tool': {
      const words = { running: 'running', done: 'done', failed: 'did not run' }[item.state];
      return (
        <div className={`tool-line tool-${item.state}`} title={`${item.summary} — ${words}`}>
          <Wrench size={12} strokeWidth={2} aria-hidden className="tool-icon" />
          <span className="tool-summary">{revealInvisible(item.summary)}</span>
          {item.state === 'running' ? (
            <LoaderCircle size={12} strokeWidth={2} aria-hidden className="spin tool-state" />
          ) : item.state === 'done' ? (
            <Check size={12} strokeWidth={2.5} aria-hidden className="tool-state" />
          ) : (
            <X size={12} strokeWidth={2.5} aria-hidden className="tool-state" />
          )}
          <span className="sr-only">: {words}</span>
        </div>
      );
    }
    case 'error':
      return (
        <div className="msg msg-error" role="alert">
          <CircleAlert size={12} strokeWidth={2} aria-hidden />
          <span>{item.text}</span>
        </div>
      );
  }
}
