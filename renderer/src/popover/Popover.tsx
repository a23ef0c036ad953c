import { useEffect } from 'react';
import { call } from '../api.js';
import { usePavise } from '../store/store.js';
import { ApprovalList, cardsIn, focusCard } from './ApprovalList.js';
import { Banners } from './Banners.js';
import { EmptyState } from './EmptyState.js';
import { QuickChat } from './QuickChat.js';
import { StatusRow } from './StatusRow.js';

/** The menu-bar popover, in order of importance: what needs you, then state, then chat. */
export function Popover() {
  const hasApprovals = usePavise((state) => state.approvals.length > 0 || state.retained.length > 0);
  const chatting = usePavise((state) => state.chat.length > 0);

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.metaKey && event.key === ',') {
        event.preventDefault();
        void call((api) => api.openSettings({}));
        return;
      }
      const idle = document.activeElement === document.body || document.activeElement === null;
      if (idle && (event.key === 'ArrowDown' || event.key === 'ArrowUp')) {
        const cards = cardsIn(document);
        focusCard(event.key === 'ArrowDown' ? cards[0] : cards.at(-1));
        event.preventDefault();
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);

  return (
    <div className={`popover${hasApprovals ? ' has-approvals' : ''}${chatting ? ' chatting' : ''}`}>
      <h1 className="sr-only">Pavise</h1>
      <main className="popover-main">
        <Banners />
        <ApprovalList />
        {hasApprovals ? null : <EmptyState />}
      </main>
      <StatusRow />
      <QuickChat />
    </div>
  );
}
