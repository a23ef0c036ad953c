import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./electron-mock.js'));

import { AppBackend } from '../../main/app/backend.js';
import { IPC_REQUESTS, type ChatEvent } from '../../main/common/ipc.js';
import type { Core } from '../../main/compose.js';
import { REFUSED_SENDER, isTrustedSender, registerIpc } from '../../electron/ipc.js';
import { BrowserWindow, FakeFrame, ipcMain, resetElectronMock } from './electron-mock.js';
import { openServices, pendingApproval } from './home.js';

type Windows = Parameters<typeof isTrustedSender>[1];

let services: Core;
let backend: AppBackend;
let cleanup: () => void;
let ours: BrowserWindow;
let windows: BrowserWindow[];
let confirmHighRisk: ReturnType<typeof vi.fn<() => Promise<boolean>>>;
let dispose: () => void;

beforeEach(async () => {
  resetElectronMock();
  ({ services, cleanup } = await openServices());
  backend = new AppBackend(services, {});
  ours = new BrowserWindow({ show: false });
  await ours.loadURL('app://pavise/index.html?view=popover');
  windows = [ours];
  confirmHighRisk = vi.fn(async () => false);
  dispose = registerIpc({
    ipcMain: ipcMain as never,
    backend,
    windows: () => windows as unknown as Windows,
    approval: (id) => services.approvals.get(id),
    confirmHighRisk,
  });
});
afterEach(() => {
  dispose();
  backend.dispose();
  cleanup();
});

const fromOurWindow = () => ({ sender: ours.webContents, senderFrame: ours.webContents.mainFrame });
const paused = () => services.switches.get('paused').on;

describe('IPC from the renderer', () => {
  it('registers exactly one handler per channel of the contract, and removes them on dispose', () => {
    expect([...ipcMain.handlers.keys()].sort()).toEqual(Object.keys(IPC_REQUESTS).sort());
    dispose();
    expect(ipcMain.handlers.size).toBe(0);
    dispose = () => undefined;
  });

  it('a good call from our window reaches the real backend: pause.set flips the switch in the database', async () => {
    expect(paused()).toBe(false);
    await expect(ipcMain.invoke('pause.set', fromOurWindow(), { paused: true })).resolves.toEqual({ ok: true, value: { paused: true } });
    expect(paused()).toBe(true);
    expect(services.activity.list({ limit: 5 }).some((row) => row.kind === 'pause' && row.actor === 'owner:popover')).toBe(true);
    await expect(ipcMain.invoke('state.get', fromOurWindow(), {})).resolves.toMatchObject({ ok: true, value: { paused: true, tray: 'paused' } });
  });

  it.each([
    ['a subframe of our window', () => ({ sender: ours.webContents, senderFrame: ours.webContents.subframe('app://pavise/index.html') })],
    ['our window showing another origin', () => ((ours.webContents.mainFrame.url = 'https://evil.example/'), fromOurWindow())],
    ['our window showing a file:// page', () => ((ours.webContents.mainFrame.url = 'file:///app/dist/renderer/index.html'), fromOurWindow())],
    ['another app:// host', () => ((ours.webContents.mainFrame.url = 'app://evil/index.html'), fromOurWindow())],
    ['a window that is not ours', () => {
      const stranger = new BrowserWindow({ show: false });
      stranger.webContents.mainFrame.url = 'app://pavise/index.html';
      return { sender: stranger.webContents, senderFrame: stranger.webContents.mainFrame };
    }],
    ['our WebContents but a frame that is not its main frame', () => ({ sender: ours.webContents, senderFrame: new FakeFrame('app://pavise/index.html') })],
    ['no frame (it navigated away or was destroyed)', () => ({ sender: ours.webContents, senderFrame: null })],
    ['a destroyed window', () => (ours.destroy(), fromOurWindow())],
  ])('refuses a request from %s and never reaches the backend', async (_name, event) => {
    await expect(ipcMain.invoke('pause.set', event(), { paused: true })).resolves.toEqual(REFUSED_SENDER);
    expect(paused()).toBe(false);
  });

  it('a malformed payload is refused with the contract error', async () => {
    for (const payload of [{ paused: 'yes' }, { paused: true, extra: 1 }, 'pause', [true], null]) {
      const answer = await ipcMain.invoke('pause.set', fromOurWindow(), payload);
      expect(answer).toMatchObject({ ok: false, code: 'bad_request' });
      expect((answer as { message: string }).message).toMatch(/malformed/);
    }
    await expect(ipcMain.invoke('approvals.decide', fromOurWindow(), { id: '../etc', decision: 'approve' })).resolves.toMatchObject({ ok: false, code: 'bad_request' });
    expect(paused()).toBe(false);
    expect(confirmHighRisk).not.toHaveBeenCalled();
  });

  it('approving a high-risk request needs the owner to confirm; a refusal leaves it pending', async () => {
    const approval = pendingApproval(services, 'high');
    await expect(ipcMain.invoke('approvals.decide', fromOurWindow(), { id: approval.id, decision: 'approve' })).resolves.toMatchObject({ ok: false, code: 'not_confirmed' });
    expect(confirmHighRisk).toHaveBeenCalledTimes(1);
    expect(services.approvals.get(approval.id)?.status).toBe('pending');
    confirmHighRisk.mockRejectedValueOnce(new Error('Touch ID broke'));
    await expect(ipcMain.invoke('approvals.decide', fromOurWindow(), { id: approval.id, decision: 'approve' })).resolves.toMatchObject({ ok: false, code: 'not_confirmed' });
    expect(services.approvals.get(approval.id)?.status).toBe('pending');
    confirmHighRisk.mockResolvedValueOnce(true);
    await expect(ipcMain.invoke('approvals.decide', fromOurWindow(), { id: approval.id, decision: 'approve' })).resolves.toMatchObject({ ok: true, value: { status: 'approved', decidedBy: 'popover' } });
  });

  it('denying high risk, and approving lower risk, need no confirmation', async () => {
    const high = pendingApproval(services, 'high');
    await expect(ipcMain.invoke('approvals.decide', fromOurWindow(), { id: high.id, decision: 'deny' })).resolves.toMatchObject({ ok: true, value: { status: 'denied' } });
    const medium = pendingApproval(services, 'medium');
    await expect(ipcMain.invoke('approvals.decide', fromOurWindow(), { id: medium.id, decision: 'approve' })).resolves.toMatchObject({ ok: true, value: { status: 'approved' } });
    expect(confirmHighRisk).not.toHaveBeenCalled();
  });

  it('pushes snapshots and chat events to our windows showing our origin, and to nothing else', async () => {
    const elsewhere = new BrowserWindow({ show: false });
    await elsewhere.loadURL('https://evil.example/');
    windows.push(elsewhere);
    backend.changed();
    await new Promise((resolve) => setTimeout(resolve, 10));
    const pushed = ours.webContents.sent.filter((message) => message.channel === 'state.changed');
    expect(pushed).toHaveLength(1);
    expect(pushed[0]?.args[0]).toMatchObject({ tray: 'idle', paused: false });
    expect(elsewhere.webContents.sent).toEqual([]);
  });

  it('pushes chat events to our windows as they stream', async () => {
    let emit: (event: ChatEvent) => void = () => undefined;
    const stub = { invoke: backend.invoke.bind(backend), onState: () => () => undefined, onChatEvent: (listener: (event: ChatEvent) => void) => ((emit = listener), () => undefined) };
    dispose();
    dispose = registerIpc({ ipcMain: ipcMain as never, backend: stub, windows: () => windows as unknown as Windows, approval: () => undefined, confirmHighRisk });
    emit({ type: 'text_delta', text: 'Hel' });
    emit({ type: 'done', reply: 'Hello', ts: 1 });
    expect(ours.webContents.sent).toEqual([
      { channel: 'chat.event', args: [{ type: 'text_delta', text: 'Hel' }] },
      { channel: 'chat.event', args: [{ type: 'done', reply: 'Hello', ts: 1 }] },
    ]);
  });

  it('never answers a secret: there is no channel that reads one', async () => {
    await ipcMain.invoke('secrets.set', fromOurWindow(), { name: 'anthropic', value: 'FAKE-test-secret-value-that-must-not-leak' });
    for (const channel of Object.keys(IPC_REQUESTS)) {
      const answer = await ipcMain.invoke(channel, fromOurWindow(), {});
      expect(JSON.stringify(answer), channel).not.toContain('secret-value-that-must-not-leak');
    }
  });
});
