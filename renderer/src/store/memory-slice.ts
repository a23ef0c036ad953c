import type { MemoryListing } from '../../../main/common/ipc.js';
import { call } from '../api.js';
import type { SliceCreator } from './types.js';

export interface MemoryFilter {
  readonly query: string;
  /** A person key from the listing, or '' for everyone. */
  readonly person: string;
  readonly includeReplaced: boolean;
}

export interface MemorySlice {
  readonly memory: MemoryListing;
  readonly memoryFilter: MemoryFilter;
  readonly memoryState: 'idle' | 'loading' | 'failed';
  /** The last problem in words (loading, adding, forgetting, exporting), shown in place. */
  readonly memoryError: string | undefined;
  /** Whether the last add landed (so the field can clear and confirm). */
  readonly memoryAdded: number | undefined;
  loadMemory(): Promise<void>;
  setMemoryFilter(filter: Partial<MemoryFilter>): Promise<void>;
  addMemory(text: string): Promise<boolean>;
  forgetMemory(id: number): Promise<void>;
  exportMemory(format: 'jsonl' | 'md'): Promise<{ filename: string; text: string } | undefined>;
}

const EMPTY: MemoryListing = { memories: [], people: [], recalled: [] };

export const createMemorySlice: SliceCreator<MemorySlice> = (set, get) => ({
  memory: EMPTY,
  memoryFilter: { query: '', person: '', includeReplaced: false },
  memoryState: 'idle',
  memoryError: undefined,
  memoryAdded: undefined,

  async loadMemory() {
    set({ memoryState: 'loading' });
    const { query, person, includeReplaced } = get().memoryFilter;
    const result = await call((api) => api.listMemory({ ...(query.trim() ? { query: query.trim() } : {}), ...(person ? { person } : {}), includeReplaced }));
    if (result.ok) set({ memory: result.value, memoryState: 'idle', memoryError: undefined });
    else set({ memoryState: 'failed', memoryError: `Could not read your memories: ${result.message}` });
  },

  async setMemoryFilter(filter) {
    set((state) => ({ memoryFilter: { ...state.memoryFilter, ...filter } }));
    await get().loadMemory();
  },

  async addMemory(text) {
    const result = await call((api) => api.addMemory({ text }));
    if (!result.ok) {
      set({ memoryError: `Could not remember that: ${result.message}` });
      return false;
    }
    set({ memoryAdded: result.value.id, memoryError: undefined });
    await get().loadMemory();
    return true;
  },

  async forgetMemory(id) {
    const result = await call((api) => api.forgetMemory({ id }));
    if (!result.ok) set({ memoryError: `Could not forget #${id}: ${result.message}` });
    await get().loadMemory();
  },

  async exportMemory(format) {
    const result = await call((api) => api.exportMemory({ format }));
    if (result.ok) return result.value;
    set({ memoryError: `Could not export: ${result.message}` });
    return undefined;
  },
});
