import type { z } from 'zod';
import type { IPC_REQUESTS, IpcChannel } from '../../common/ipc.js';

/** One IPC channel's handler: gets the payload already parsed against the contract in main/common/ipc.ts. */
export type Handler<C extends IpcChannel> = (payload: z.output<(typeof IPC_REQUESTS)[C]>) => Promise<unknown> | unknown;

/** The handlers of one domain, keyed by channel. */
export type Handlers<C extends IpcChannel> = { readonly [K in C]: Handler<K> };
