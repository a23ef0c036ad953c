/**
 * IPC channel names, without zod: what the sandboxed preload needs. The schemas for each request are in ipc.ts.
 */

/** Which IPC channel each `window.pavise` method uses. */
export const API_CHANNELS = {
  getState: 'state.get',
  decideApproval: 'approvals.decide',
  setPaused: 'pause.set',
  sendChat: 'chat.send',
  abortChat: 'chat.abort',
  chatHistory: 'chat.history',
  getSettings: 'settings.get',
  updateSettings: 'settings.update',
  setSecret: 'secrets.set',
  removeSecret: 'secrets.remove',
  savePersona: 'persona.save',
  createPairingCode: 'pairing.create',
  listActivity: 'activity.list',
  verifyActivity: 'activity.verify',
  openSystemPane: 'system.openPane',
  openSettings: 'window.openSettings',
  listSchedule: 'schedule.list',
  removeScheduled: 'schedule.remove',
  previewScheduleTime: 'schedule.preview',
  addScheduled: 'schedule.add',
  editScheduled: 'schedule.edit',
  setScheduledPaused: 'schedule.setPaused',
  runScheduledNow: 'schedule.runNow',
  listSkills: 'skills.list',
  setSkillEnabled: 'skills.setEnabled',
  removeSkill: 'skills.remove',
  reviewSkill: 'skills.review',
  trustSkill: 'skills.trust',
  pickSkill: 'skills.pick',
  installSkill: 'skills.install',
  listMemory: 'memory.list',
  addMemory: 'memory.add',
  forgetMemory: 'memory.forget',
  exportMemory: 'memory.export',
  setSkillSecret: 'skills.setSecret',
  removeSkillSecret: 'skills.removeSecret',
  listMcpServers: 'mcp.list',
  setMcpServerEnabled: 'mcp.setEnabled',
  removeMcpServer: 'mcp.remove',
  addMcpServer: 'mcp.add',
  setMcpToolOverride: 'mcp.setToolOverride',
  testMail: 'mail.test',
  testHome: 'home.test',
} as const;


export type IpcChannelName = (typeof API_CHANNELS)[keyof typeof API_CHANNELS];

/** Events the core pushes to the renderer. */
export const IPC_EVENTS = ['state.changed', 'chat.event'] as const;
export type IpcEventChannel = (typeof IPC_EVENTS)[number];

