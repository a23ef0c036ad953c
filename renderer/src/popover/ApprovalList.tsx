import { useEffect, useRef, type KeyboardEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { prefersReducedMotion, usePresence } from '../shared/use-presence.js';
import { visibleApprovals } from '../store/approvals-slice.js';
import { usePavise } from '../store/store.js';
import { ApprovalCard } from './ApprovalCard.js';

const EXIT_MS = 140;

/** Moves focus to a card's default control: Deny for high risk, Approve otherwise. */
export function focusCard(card: Element | null | undefined): void {
  if (!(card instanceof HTMLElement)) return;
  const target = card.querySelector<HTMLElement>('[data-default]:not(:disabled)') ?? card;
  // The card reads top to bottom: show its beginning, not just the focused button at its end.
  target.focus({ preventScroll: true });
  card.scrollIntoView({ block: 'nearest' });
  const scroller = card.closest('.popover-main');
  if (scroller && card.getBoundingClientRect().top < scroller.getBoundingClientRect().top) card.scrollIntoView({ block: 'start' });
}

export function cardsIn(root: ParentNode | null): HTMLElement[] {
  return root ? [...root.querySelectorAll<HTMLElement>('[data-approval-id]:not([data-leaving])')] : [];
}

/**
 * The pending approvals, oldest first. Keyboard: ↑/↓ move between cards, ⏎ on a card approves, ⌫ denies.
 * A newly shown card takes focus only when nothing else has it, so typing in chat is never interrupted.
 */
export function ApprovalList() {
  const approvals = usePavise(useShallow(visibleApprovals));
  const decide = usePavise((state) => state.decide);
  const present = usePresence(approvals, prefersReducedMotion() ? 0 : EXIT_MS);
  const listRef = useRef<HTMLDivElement>(null);
  const firstId = approvals[0]?.id;

  useEffect(() => {
    if (!firstId) return;
    const active = document.activeElement;
    const idle = !active || active === document.body || !active.isConnected || (listRef.current?.contains(active) && active.closest('[data-leaving]'));
    if (idle) focusCard(cardsIn(listRef.current)[0]);
  }, [firstId]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const target = event.target as HTMLElement;
    if (target.closest('input, textarea, select') || event.metaKey || event.ctrlKey || event.altKey) return;
    const card = target.closest<HTMLElement>('[data-approval-id]');
    if (!card || card.dataset.leaving) return;
    const id = card.dataset.approvalId ?? '';
    const cards = cardsIn(listRef.current);
    const index = cards.indexOf(card);
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowUp': {
        const next = cards[index + (event.key === 'ArrowDown' ? 1 : -1)];
        if (next) focusCard(next);
        event.preventDefault();
        break;
      }
      case 'Enter':
        // On a button, Enter presses that button; on the card itself it approves.
        if (target === card && !card.dataset.final) {
          event.preventDefault();
          void decide(id, 'approve');
        }
        break;
      case 'Backspace':
      case 'Delete':
        event.preventDefault();
        if (!card.dataset.final) void decide(id, 'deny');
        break;
    }
  };

  if (present.length === 0) return null;
  return (
    <section className="approvals" aria-label={`${approvals.length} waiting for you`}>
      <div className="approval-list" ref={listRef} onKeyDown={onKeyDown}>
        {present.map(({ item, leaving }) => (
          <ApprovalCard key={item.id} approval={item} leaving={leaving} />
        ))}
      </div>
    </section>
  );
}
