import { beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./electron-mock.js'));

import { API_CHANNELS, IPC_REQUESTS, type PaviseApi } from '../../main/common/ipc.js';
import { contextBridge, ipcRenderer, resetElectronMock } from './electron-mock.js';

/** Every method of PaviseApi; the `satisfies` fails to compile when the interface gains or loses one. */
const API_METHODS = [...Object.keys(API_CHANNELS), 'onState', 'onChatEvent'] as (keyof PaviseApi)[];
type Missing = Exclude<keyof PaviseApi, keyof typeof API_CHANNELS | 'onState' | 'onChatEvent'>;
const exhaustive: [Missing] extends [never] ? true : never = true;

let api: PaviseApi;

beforeAll(async () => {
  resetElectronMock();
  await import('../../electron/preload.js');
  api = contextBridge.exposed.get('pavise') as PaviseApi;
});

describe('the preload', () => {
  it('exposes exactly one object, window.pavise, with exactly the PaviseApi methods', () => {
    expect(exhaustive).toBe(true);
    expect([...contextBridge.exposed.keys()]).toEqual(['pavise']);
    expect(Object.keys(api).sort()).toEqual([...API_METHODS].sort());
    for (const method of API_METHODS) expect(typeof api[method], method).toBe('function');
    expect(Object.isFrozen(api)).toBe(true);
    for (const forbidden of ['ipcRenderer', 'invoke', 'send', 'sendSync', 'on', 'postMessage', 'getSecret', 'readSecret']) {
      expect(forbidden in api, forbidden).toBe(false);
    }
    // Every API channel exists in the contract the main side parses with.
    for (const channel of Object.values(API_CHANNELS)) expect(Object.hasOwn(IPC_REQUESTS, channel)).toBe(true);
  });

  it('each method invokes its own channel with one payload and nothing else', async () => {
    ipcRenderer.invocations.length = 0;
    await api.setPaused({ paused: true });
    await api.decideApproval({ id: 'ap_abcdefghijkl', decision: 'deny' });
    await api.getState();
    await (api.sendChat as (request: unknown, extra: unknown) => Promise<unknown>)({ text: 'hi' }, { smuggled: true });
    expect(ipcRenderer.invocations).toEqual([
      { channel: 'pause.set', args: [{ paused: true }] },
      { channel: 'approvals.decide', args: [{ id: 'ap_abcdefghijkl', decision: 'deny' }] },
      { channel: 'state.get', args: [{}] },
      { channel: 'chat.send', args: [{ text: 'hi' }] },
    ]);
    for (const [method, channel] of Object.entries(API_CHANNELS)) {
      ipcRenderer.invocations.length = 0;
      await (api[method as keyof typeof API_CHANNELS] as (payload?: unknown) => Promise<unknown>)();
      expect(ipcRenderer.invocations.map((call) => call.channel)).toEqual([channel]);
    }
  });

  it('onState and onChatEvent deliver only the value (never the IPC event or its sender) and unsubscribe', () => {
    const states: unknown[][] = [];
    const chats: unknown[][] = [];
    const stopState = api.onState((...args: unknown[]) => void states.push(args));
    const stopChat = api.onChatEvent((...args: unknown[]) => void chats.push(args));
    const ipcEvent = { sender: ipcRenderer, senderId: 0 };
    ipcRenderer.emit('state.changed', ipcEvent, { tray: 'idle' });
    ipcRenderer.emit('chat.event', ipcEvent, { type: 'text_delta', text: 'Hel' });
    expect(states).toEqual([[{ tray: 'idle' }]]);
    expect(chats).toEqual([[{ type: 'text_delta', text: 'Hel' }]]);
    stopState();
    stopChat();
    ipcRenderer.emit('state.changed', ipcEvent, { tray: 'paused' });
    ipcRenderer.emit('chat.event', ipcEvent, { type: 'done' });
    expect(states).toHaveLength(1);
    expect(chats).toHaveLength(1);
    expect(ipcRenderer.listenerCount('state.changed') + ipcRenderer.listenerCount('chat.event')).toBe(0);
    expect(() => api.onState('not a function' as never)).toThrow(TypeError);
  });
});
