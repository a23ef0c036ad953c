import type { IpcRequest, McpServerView, SkillReviewView, SkillView } from '../../../main/common/ipc.js';
import { call } from '../api.js';
import type { SliceCreator } from './types.js';

export interface SkillsSlice {
  readonly skills: readonly SkillView[];
  readonly skillsState: 'idle' | 'loading' | 'failed';
  /** The last error of a skills action, in words. */
  readonly skillsError: string | undefined;
  /** Installed skills whose files changed after review (from the pushed snapshot). */
  readonly driftedSkills: readonly string[];
  readonly review: SkillReviewView | undefined;
  loadSkills(): Promise<void>;
  setSkillEnabled(name: string, enabled: boolean): Promise<void>;
  removeSkill(name: string): Promise<void>;
  openReview(name: string): Promise<void>;
  closeReview(): void;
  trustReviewed(): Promise<void>;
  /** "Install…": the owner picks a folder or archive; its review opens in the sheet. */
  pickSkill(): Promise<void>;
  /** Installs the reviewed skill with the permissions the owner ticked. */
  installReviewed(grant: readonly string[]): Promise<void>;
  /** Stores a secret granted to a skill in the Keychain; true when stored. The value is not kept here. */
  setSkillSecret(name: string, secret: string, value: string): Promise<boolean>;
  removeSkillSecret(name: string, secret: string): Promise<boolean>;
  readonly mcpServers: readonly McpServerView[];
  loadMcpServers(): Promise<void>;
  setMcpServerEnabled(name: string, enabled: boolean): Promise<void>;
  removeMcpServer(name: string): Promise<void>;
  /** True when added; the error is in skillsError. */
  addMcpServer(server: IpcRequest<'mcp.add'>): Promise<boolean>;
  setMcpToolOverride(name: string, tool: string, override: 'ask' | 'deny' | null): Promise<void>;
}

export const createSkillsSlice: SliceCreator<SkillsSlice> = (set, get) => {
  const apply = (result: { ok: true; value: SkillView[] } | { ok: false; message: string }) =>
    set(result.ok ? { skills: result.value, skillsState: 'idle', skillsError: undefined } : { skillsError: result.message });
  const applyMcp = (result: { ok: true; value: McpServerView[] } | { ok: false; message: string }) =>
    set(result.ok ? { mcpServers: result.value, skillsError: undefined } : { skillsError: result.message });
  return {
    skills: [],
    skillsState: 'idle',
    skillsError: undefined,
    driftedSkills: [],
    review: undefined,
    async loadSkills() {
      set({ skillsState: 'loading' });
      const result = await call((api) => api.listSkills());
      if (result.ok) set({ skills: result.value, skillsState: 'idle', skillsError: undefined });
      else set({ skillsState: 'failed', skillsError: result.message });
    },
    async setSkillEnabled(name, enabled) {
      apply(await call((api) => api.setSkillEnabled({ name, enabled })));
    },
    async removeSkill(name) {
      apply(await call((api) => api.removeSkill({ name })));
    },
    async openReview(name) {
      const result = await call((api) => api.reviewSkill({ name }));
      set(result.ok ? { review: result.value, skillsError: undefined } : { skillsError: result.message });
    },
    closeReview() {
      set({ review: undefined });
    },
    async trustReviewed() {
      const review = get().review;
      if (!review) return;
      const result = await call((api) => api.trustSkill({ name: review.name, hash: review.hash }));
      apply(result);
      if (result.ok) set({ review: undefined });
    },
    async pickSkill() {
      const result = await call((api) => api.pickSkill());
      if (!result.ok) set({ skillsError: result.message });
      else if (!('cancelled' in result.value)) set({ review: result.value, skillsError: undefined });
    },
    mcpServers: [],
    async loadMcpServers() {
      applyMcp(await call((api) => api.listMcpServers()));
    },
    async setMcpServerEnabled(name, enabled) {
      applyMcp(await call((api) => api.setMcpServerEnabled({ name, enabled })));
    },
    async removeMcpServer(name) {
      applyMcp(await call((api) => api.removeMcpServer({ name })));
    },
    async addMcpServer(server) {
      const result = await call((api) => api.addMcpServer(server));
      applyMcp(result);
      return result.ok;
    },
    async setMcpToolOverride(name, tool, override) {
      applyMcp(await call((api) => api.setMcpToolOverride({ name, tool, override })));
    },
    async setSkillSecret(name, secret, value) {
      const result = await call((api) => api.setSkillSecret({ name, secret, value }));
      apply(result);
      return result.ok;
    },
    async removeSkillSecret(name, secret) {
      const result = await call((api) => api.removeSkillSecret({ name, secret }));
      apply(result);
      return result.ok;
    },
    async installReviewed(grant) {
      const review = get().review;
      if (!review?.path) return;
      const result = await call((api) => api.installSkill({ path: review.path as string, hash: review.hash, grant: [...grant] }));
      apply(result);
      if (result.ok) set({ review: undefined });
    },
  };
};
