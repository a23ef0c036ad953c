import type { ActivityItem, ConnectionTestView, IpcRequest, IpcResult, SettingsView } from '../../../main/common/ipc.js';
import { call } from '../api.js';
import type { SliceCreator } from './types.js';

type SystemPaneId = 'full-disk-access' | 'automation' | 'notifications' | 'calendars' | 'contacts';

const PANE_WORDS: Readonly<Record<SystemPaneId, string>> = {
  'full-disk-access': 'Privacy & Security › Full Disk Access',
  automation: 'Privacy & Security › Automation',
  notifications: 'Notifications',
  calendars: 'Privacy & Security › Calendars',
  contacts: 'Privacy & Security › Contacts',
};

export const SECTIONS = ['general', 'channels', 'files', 'mail', 'home', 'skills', 'memory', 'schedules', 'limits', 'activity'] as const;
export type SectionId = (typeof SECTIONS)[number];

export interface FormStatus {
  readonly state: 'idle' | 'saving' | 'saved' | 'error';
  readonly message?: string;
}

export interface ActivityFilter {
  readonly kind: string;
  readonly decision: string;
}

export type VerifyResult = { readonly ok: boolean; readonly count: number; readonly unverifiable?: number; readonly badRowId?: number; readonly problem?: string };

export interface SettingsSlice {
  readonly section: SectionId;
  readonly settings: SettingsView | undefined;
  readonly settingsError: string | undefined;
  /** Per form ("model", "limits", "persona", "secret:anthropic"…): saving, saved, or the error in words. */
  readonly forms: Readonly<Record<string, FormStatus>>;
  readonly pairing: { readonly code: string; readonly expiresAt: number } | undefined;
  readonly activity: readonly ActivityItem[];
  readonly activityFilter: ActivityFilter;
  readonly activityState: 'idle' | 'loading' | 'failed';
  readonly verifyResult: VerifyResult | { readonly error: string } | undefined;
  readonly verifying: boolean;
  /** The last "Test" result per connection ("mail:personal", "home"). */
  readonly connectionTests: Readonly<Record<string, ConnectionTestView>>;
  testMail(id: string): Promise<void>;
  testHome(): Promise<void>;
  setSection(section: SectionId): void;
  loadSettings(): Promise<void>;
  updateSettings(form: string, patch: IpcRequest<'settings.update'>): Promise<boolean>;
  /** The value goes straight to the core; it is never kept in the store. */
  setSecret(name: string, value: string): Promise<boolean>;
  removeSecret(name: string): Promise<boolean>;
  savePersona(text: string): Promise<boolean>;
  createPairing(): Promise<void>;
  decidePairing(id: string, decision: 'approve' | 'deny'): Promise<void>;
  openPane(pane: SystemPaneId): Promise<void>;
  setActivityFilter(filter: Partial<ActivityFilter>): Promise<void>;
  loadActivity(): Promise<void>;
  verifyActivity(): Promise<void>;
}

export const createSettingsSlice: SliceCreator<SettingsSlice> = (set, get) => {
  const form = (id: string, status: FormStatus) => set((state) => ({ forms: { ...state.forms, [id]: status } }));
  const run = async <T>(id: string, request: () => Promise<IpcResult<T>>, saved: string, after?: (value: T) => void): Promise<boolean> => {
    form(id, { state: 'saving' });
    const result = await request();
    if (!result.ok) {
      form(id, { state: 'error', message: result.message });
      return false;
    }
    after?.(result.value);
    form(id, { state: 'saved', message: saved });
    return true;
  };

  return {
    section: 'general',
    settings: undefined,
    settingsError: undefined,
    forms: {},
    pairing: undefined,
    activity: [],
    activityFilter: { kind: '', decision: '' },
    activityState: 'idle',
    verifyResult: undefined,
    verifying: false,
    connectionTests: {},

    async testMail(id) {
      const key = `mail:${id}`;
      set((state) => ({ connectionTests: Object.fromEntries(Object.entries(state.connectionTests).filter(([name]) => name !== key)) }));
      await run(`test:${key}`, () => call((api) => api.testMail({ id })), '', (result) => set((state) => ({ connectionTests: { ...state.connectionTests, [key]: result } })));
    },

    async testHome() {
      set((state) => ({ connectionTests: Object.fromEntries(Object.entries(state.connectionTests).filter(([name]) => name !== 'home')) }));
      await run('test:home', () => call((api) => api.testHome()), '', (result) => set((state) => ({ connectionTests: { ...state.connectionTests, home: result } })));
    },

    setSection(section) {
      set({ section });
    },

    async loadSettings() {
      const result = await call((api) => api.getSettings());
      if (result.ok) set({ settings: result.value, settingsError: undefined });
      else set({ settingsError: result.message });
    },

    updateSettings(id, patch) {
      return run(id, () => call((api) => api.updateSettings(patch)), 'Saved.', (settings) => set({ settings }));
    },

    async setSecret(name, value) {
      const ok = await run(`secret:${name}`, () => call((api) => api.setSecret({ name, value })), 'Stored in the Keychain.');
      if (ok) await get().loadSettings();
      return ok;
    },

    async removeSecret(name) {
      const ok = await run(`secret:${name}`, () => call((api) => api.removeSecret({ name })), 'Removed from the Keychain.');
      if (ok) await get().loadSettings();
      return ok;
    },

    savePersona(text) {
      return run('persona', () => call((api) => api.savePersona({ text })), 'Saved. New conversations use it.', () =>
        set((state) => ({ settings: state.settings ? { ...state.settings, persona: text } : state.settings })),
      );
    },

    async createPairing() {
      await run('pairing', () => call((api) => api.createPairingCode({ channel: 'telegram' })), '', (pairing) => set({ pairing }));
    },

    async decidePairing(id, decision) {
      const ok = await run(`pairing:${id}`, () => call((api) => api.decideApproval({ id, decision })), decision === 'approve' ? 'Approved.' : 'Denied.');
      if (ok) await get().loadSettings();
    },

    async openPane(pane) {
      const result = await call((api) => api.openSystemPane({ pane }));
      if (!result.ok) form(`pane:${pane}`, { state: 'error', message: result.message });
      else if (!result.value.opened) form(`pane:${pane}`, { state: 'error', message: `System Settings could not be opened from here. Open it yourself: ${PANE_WORDS[pane]}.` });
      else form(`pane:${pane}`, { state: 'idle' });
    },

    async setActivityFilter(filter) {
      set((state) => ({ activityFilter: { ...state.activityFilter, ...filter } }));
      await get().loadActivity();
    },

    async loadActivity() {
      set({ activityState: 'loading' });
      const { kind, decision } = get().activityFilter;
      const result = await call((api) => api.listActivity({ limit: 500, ...(kind ? { kind } : {}), ...(decision ? { decision } : {}) }));
      if (result.ok) set({ activity: result.value, activityState: 'idle' });
      else set({ activityState: 'failed', forms: { ...get().forms, activity: { state: 'error', message: result.message } } });
    },

    async verifyActivity() {
      set({ verifying: true, verifyResult: undefined });
      const result = await call((api) => api.verifyActivity());
      // A log that does not verify is an answer, not a failed call; the core sends it as `{ ok: false, count, problem }`.
      const answer = result as unknown as Partial<VerifyResult>;
      if (!result.ok && typeof answer.count === 'number') set({ verifying: false, verifyResult: { ok: false, count: answer.count, ...(answer.badRowId !== undefined ? { badRowId: answer.badRowId } : {}), ...(answer.problem ? { problem: answer.problem } : {}) } });
      else set({ verifying: false, verifyResult: result.ok ? result.value : { error: result.message } });
    },
  };
};
