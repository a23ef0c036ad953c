import type { PaviseApi, IpcResult } from '../../main/common/ipc.js';

/**
 * The renderer's only door to the core: `window.pavise`, exposed by the preload (or the test bridge). Read
 * through globalThis so the store stays testable under plain Node.
 */
export function pavise(): PaviseApi {
  const api = (globalThis as { pavise?: PaviseApi }).pavise;
  if (!api) throw new Error('window.pavise is missing: the preload did not run.');
  return api;
}

/** Runs one IPC call and always answers a value: a rejected promise (a broken bridge) becomes an error result. */
export async function call<T>(run: (api: PaviseApi) => Promise<IpcResult<T>>): Promise<IpcResult<T>> {
  try {
    return await run(pavise());
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, code: 'ipc_failed', message: `Pavise's core did not answer (${message}). Quit and reopen Pavise.` };
  }
}
