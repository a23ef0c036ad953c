import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { effectTarget } from '../../main/permissions/policy.js';
import { ApprovalStore, type NewApproval } from '../../main/storage/approval-store.js';
import { openDatabase, type Database } from '../../main/storage/database.js';

let dir: string;
let db: Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-approvals-'));
  db = openDatabase(join(dir, 'pavise.db'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const NOW = 1_800_000_000_000;
function request(hash: string, ttlMs = 60_000): NewApproval {
  return { sessionId: undefined, tool: 'pair_sender', input: { hash }, effects: [], provenance: { origins: [] }, hash, title: `pair ${hash}`, reason: 'test', risk: 'medium', grantable: false, ttlMs };
}

describe('ApprovalStore.live', () => {
  it('finds the approvals bound to a hash that still say something, however many others came after them', () => {
    const store = new ApprovalStore(db, effectTarget);
    const waiting = store.create(request('a'), NOW);
    const denied = store.create(request('b'), NOW);
    expect(store.decide(denied.id, 'deny', 'cli', {}, NOW).ok).toBe(true);
    // Far more than a page of the newest approvals (the gateway used to look at the latest 500 only).
    for (let i = 0; i < 600; i++) store.expire(store.create(request(`other-${i}`), NOW + 1).id, NOW + 1);

    expect(store.live('a', NOW + 2).map((approval) => [approval.id, approval.status])).toEqual([[waiting.id, 'pending']]);
    expect(store.live('b', NOW + 2).map((approval) => [approval.id, approval.status])).toEqual([[denied.id, 'denied']]);
    expect(store.live('other-1', NOW + 2)).toEqual([]);
  });

  it('leaves out approvals that expired, were ended early or were used', () => {
    const store = new ApprovalStore(db, effectTarget);
    store.create(request('a', 1_000), NOW);
    expect(store.live('a', NOW + 999)).toHaveLength(1);
    expect(store.live('a', NOW + 1_000)).toEqual([]);

    const ended = store.create(request('a'), NOW);
    store.expire(ended.id, NOW);
    expect(store.live('a', NOW)).toEqual([]);

    const used = store.create(request('c'), NOW);
    expect(store.decide(used.id, 'approve', 'cli', {}, NOW).ok).toBe(true);
    expect(store.live('c', NOW).map((approval) => approval.status)).toEqual(['approved']);
    expect(store.consume(used.id, 'c', NOW).ok).toBe(true);
    expect(store.live('c', NOW)).toEqual([]);
  });
});
