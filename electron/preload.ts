/**
 * The whole surface the renderer gets: `window.pavise`, exactly the methods of `PaviseApi`. Each request method
 * forwards one payload to its channel; the main side checks the sender and parses the payload. `ipcRenderer`
 * itself, its events and their `sender` never cross the bridge. There is no method that returns a secret.
 * Runs sandboxed: bundled to CommonJS, and it may import only `electron` and main/common.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { PaviseApi, ChatEvent, IpcEventChannel, Snapshot } from '../main/common/ipc.js';
import { API_CHANNELS } from '../main/common/ipc-channels.js';

/** Listeners get the pushed value only, never the IPC event (whose `sender` is ipcRenderer itself). */
function subscribe<T>(channel: IpcEventChannel, listener: (value: T) => void): () => void {
  if (typeof listener !== 'function') throw new TypeError('Expected a listener function.');
  const forward = (_event: IpcRendererEvent, value: T) => listener(value);
  ipcRenderer.on(channel, forward);
  return () => {
    ipcRenderer.removeListener(channel, forward);
  };
}

function createApi(): PaviseApi {
  const api: Record<string, unknown> = {};
  for (const [method, channel] of Object.entries(API_CHANNELS)) {
    api[method] = (payload?: unknown) => ipcRenderer.invoke(channel, payload ?? {});
  }
  api.onState = (listener: (snapshot: Snapshot) => void) => subscribe('state.changed', listener);
  api.onChatEvent = (listener: (event: ChatEvent) => void) => subscribe('chat.event', listener);
  return Object.freeze(api) as unknown as PaviseApi;
}

contextBridge.exposeInMainWorld('pavise', createApi());
