import type { StateCreator } from 'zustand';
import type { ApprovalsSlice } from './approvals-slice.js';
import type { ChatSlice } from './chat-slice.js';
import type { MemorySlice } from './memory-slice.js';
import type { SettingsSlice } from './settings-slice.js';
import type { SkillsSlice } from './skills-slice.js';
import type { StatusSlice } from './status-slice.js';

export type PaviseState = ApprovalsSlice & StatusSlice & ChatSlice & SettingsSlice & SkillsSlice & MemorySlice;

/** One typed slice of the bound store; every slice may read and write the whole state. */
export type SliceCreator<T> = StateCreator<PaviseState, [], [], T>;
