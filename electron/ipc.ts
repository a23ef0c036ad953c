import type { BrowserWindow, IpcMain, IpcMainInvokeEvent } from 'electron';
import type { ApprovalView } from '../main/common/approvals.js';
import { IPC_REQUESTS, type ChatEvent, type IpcChannel, type IpcEventChannel, type IpcResult, type Snapshot } from '../main/common/ipc.js';
import { isAppUrl } from './security.js';

/** What the IPC layer needs from the core; `AppBackend` is the real one. */
export interface IpcBackend {
  invoke(channel: string, payload: unknown): Promise<IpcResult<unknown>>;
  onState(listener: (snapshot: Snapshot) => void): () => void;
  onChatEvent(listener: (event: ChatEvent) => void): () => void;
}

export interface IpcOptions {
  readonly ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  readonly backend: IpcBackend;
  /** Our windows, the only senders we answer and the only receivers of pushes. */
  readonly windows: () => readonly BrowserWindow[];
  /** Looks an approval up, to know its risk before approving it. */
  readonly approval: (id: string) => ApprovalView | undefined;
  /** Asked before a high-risk approval is approved from a window (Touch ID where the Mac has it). */
  readonly confirmHighRisk: (approval: ApprovalView) => Promise<boolean>;
  readonly log?: (line: string) => void;
}

export const REFUSED_SENDER: IpcResult<never> = {
  ok: false,
  code: 'forbidden_sender',
  message: 'Refused: the request did not come from a Pavise window.',
};

/**
 * True only for the main frame of one of our windows showing `app://pavise`. A subframe, another window's
 * WebContents, or a page that somehow navigated elsewhere gets nothing.
 */
export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, windows: readonly BrowserWindow[]): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  const owner = windows.find((window) => !window.isDestroyed() && window.webContents === event.sender);
  if (!owner) return false;
  const main = owner.webContents.mainFrame;
  const isMainFrame = frame === main || (frame.processId === main.processId && frame.routingId === main.routingId);
  return isMainFrame && isAppUrl(frame.url);
}

/**
 * Registers one `ipcMain.handle` per channel of the contract. Each checks the sender, then hands the payload to the
 * backend, which parses it with the contract's zod schema and answers a value (never a thrown error). Pushes go to
 * our windows only. Returns a function that removes everything it registered.
 */
export function registerIpc(options: IpcOptions): () => void {
  const log = options.log ?? (() => undefined);
  const channels = Object.keys(IPC_REQUESTS) as IpcChannel[];
  for (const channel of channels) {
    options.ipcMain.handle(channel, async (event, payload: unknown) => {
      if (!isTrustedSender(event, options.windows())) {
        log(`refused "${channel}" from ${event.senderFrame?.url ?? 'an unknown frame'}`);
        return REFUSED_SENDER;
      }
      if (channel === 'approvals.decide') {
        const refusal = await confirmIfHighRisk(options, payload);
        if (refusal) return refusal;
      }
      return options.backend.invoke(channel, payload);
    });
  }
  const push = (channel: IpcEventChannel, value: unknown) => {
    for (const window of options.windows()) {
      if (window.isDestroyed() || window.webContents.isDestroyed()) continue;
      if (!isAppUrl(window.webContents.getURL())) continue;
      window.webContents.send(channel, value);
    }
  };
  const stopState = options.backend.onState((snapshot) => push('state.changed', snapshot));
  const stopChat = options.backend.onChatEvent((event) => push('chat.event', event));
  return () => {
    for (const channel of channels) options.ipcMain.removeHandler(channel);
    stopState();
    stopChat();
  };
}

/** Approving a pending high-risk approval needs the owner's confirmation first; a refusal leaves it pending. */
async function confirmIfHighRisk(options: IpcOptions, payload: unknown): Promise<IpcResult<never> | undefined> {
  const parsed = IPC_REQUESTS['approvals.decide'].safeParse(payload);
  // A malformed request goes on to the backend, which answers the contract's own error.
  if (!parsed.success || parsed.data.decision !== 'approve') return undefined;
  const approval = options.approval(parsed.data.id);
  if (!approval || approval.status !== 'pending' || approval.risk !== 'high') return undefined;
  let confirmed = false;
  try {
    confirmed = await options.confirmHighRisk(approval);
  } catch {
    confirmed = false;
  }
  return confirmed
    ? undefined
    : { ok: false, code: 'not_confirmed', message: 'Not approved: Touch ID did not confirm it. The request is still waiting; try again or deny it.' };
}
