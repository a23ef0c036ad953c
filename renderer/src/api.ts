import type { CarapaceApi, IpcResult } from '../../main/common/ipc.js';

/**
 * The renderer's only door to the core: `window.carapace`, exposed by the preload (or the test bridge). Read
 * through globalThis so the store stays testable under plain Node.
 */
export function carapace(): CarapaceApi {
  const api = (globalThis as { carapace?: CarapaceApi }).carapace;
  if (!api) throw new Error('window.carapace is missing: the preload did not run.');
  return api;
}

/** Runs one IPC call and always answers a value: a rejected promise (a broken bridge) becomes an error result. */
export async function call<T>(run: (api: CarapaceApi) => Promise<IpcResult<T>>): Promise<IpcResult<T>> {
  try {
    return await run(carapace());
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, code: 'ipc_failed', message: `Carapace's core did not answer (${message}). Quit and reopen Carapace.` };
  }
}
