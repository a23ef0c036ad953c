import { create } from 'zustand';
import { createApprovalsSlice } from './approvals-slice.js';
import { createChatSlice } from './chat-slice.js';
import { createMemorySlice } from './memory-slice.js';
import { createSettingsSlice } from './settings-slice.js';
import { createSkillsSlice } from './skills-slice.js';
import { createStatusSlice } from './status-slice.js';
import type { PaviseState } from './types.js';

export type { PaviseState } from './types.js';

/** The one bound store, built from typed slices. Components read it through narrow selectors. */
export const usePavise = create<PaviseState>()((...args) => ({
  ...createApprovalsSlice(...args),
  ...createStatusSlice(...args),
  ...createChatSlice(...args),
  ...createSettingsSlice(...args),
  ...createSkillsSlice(...args),
  ...createMemorySlice(...args),
}));

const initialState = usePavise.getState();

/** Back to the first state (tests). Actions are part of it, so the store stays usable. */
export function resetStore(): void {
  usePavise.setState(initialState, true);
}
