import { describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./electron-mock.js'));

import type { Snapshot } from '../../main/common/ipc.js';
import { TRAY_IMAGES, TrayIcon, trayImage, trayTooltip } from '../../electron/tray.js';
import { FakeImage, Tray } from './electron-mock.js';

const base: Snapshot = {
  approvals: [],
  paused: false,
  breaker: { tripped: false },
  channels: [],
  model: { provider: 'anthropic', name: 'claude' },
  spend: { todayUsd: 0, capUsd: 5 },
  recent: [],
  tray: 'idle',
  turnRunning: false,
};
const approval = { id: 'ap_abcdefghijkl' } as Snapshot['approvals'][number];

describe('tray icon', () => {
  it('loads a template image per state from assets/', () => {
    for (const state of ['idle', 'working', 'approval', 'paused'] as const) {
      const image = trayImage('/app/assets', state) as unknown as FakeImage;
      expect(image.path).toBe(`/app/assets/${TRAY_IMAGES[state]}`);
      expect(image.path).toMatch(/Template\.png$/);
      expect(image.isTemplateImage()).toBe(true);
    }
  });

  it('follows the snapshots: idle → approval → paused → working → idle, image and tooltip', () => {
    const tray = new Tray(new FakeImage('/initial'));
    const icon = new TrayIcon(tray as never, (state) => new FakeImage(state) as never);
    const seen: string[] = [];
    const step = (snapshot: Snapshot) => {
      icon.update(snapshot);
      seen.push(`${tray.image.path} | ${tray.tooltip}`);
    };
    step(base);
    step({ ...base, approvals: [approval], tray: 'approval' });
    step({ ...base, approvals: [approval, approval], tray: 'approval' });
    step({ ...base, approvals: [approval], paused: true, tray: 'paused' });
    step({ ...base, turnRunning: true, tray: 'working' });
    step({ ...base, breaker: { tripped: true }, tray: 'idle' });
    expect(seen).toEqual([
      'idle | Pavise — nothing needs you',
      'approval | Pavise — 1 approval waiting',
      'approval | Pavise — 2 approvals waiting',
      'paused | Pavise — paused, 1 approval waiting',
      'working | Pavise — working on a reply',
      'idle | Pavise — outbound messages stopped',
    ]);
  });

  it('sets the image only when the state changes', () => {
    const tray = new Tray(new FakeImage('/initial'));
    const setImage = vi.spyOn(tray, 'setImage');
    const icon = new TrayIcon(tray as never, (state) => new FakeImage(state) as never);
    icon.update(base);
    icon.update(base);
    icon.update({ ...base, spend: { todayUsd: 1, capUsd: 5 } });
    expect(setImage).toHaveBeenCalledTimes(1);
    tray.destroy();
    icon.update({ ...base, tray: 'paused', paused: true });
    expect(setImage).toHaveBeenCalledTimes(1);
  });
});
