import { describe, expect, it } from 'vitest';

import { policySchema } from './autoscaler-config.js';
import {
  activePolicy,
  idleTarget,
  instancesToCreate,
  instancesToRemove,
  machinesFor,
  type FleetSnapshot,
  type Limits,
} from './policy.js';

const limits: Limits = { capacityPerInstance: 1, maxUseCount: 0, maxInstances: 0 };
const none = { idleCount: 0, idleTimeMs: 0, scaleFactor: 0, scaleFactorLimit: 0 };
const snap = (s: Partial<FleetSnapshot>): FleetSnapshot => ({
  inUse: 0,
  waiting: 0,
  free: 0,
  creating: 0,
  total: 0,
  ...s,
});

describe('capacity policy', () => {
  it('creates for waiting jobs, but not for demand machines being created already cover', () => {
    expect(instancesToCreate(snap({ waiting: 3 }), none, limits)).toBe(3);
    expect(instancesToCreate(snap({ waiting: 3, creating: 2, total: 2 }), none, limits)).toBe(1);
    expect(instancesToCreate(snap({ waiting: 3, creating: 3, total: 3 }), none, limits)).toBe(0);
  });

  it('boot hedge: the jobs no machine covers, or with hedgeOver "waiting" every job no ready slot serves', () => {
    // 4 jobs wait, 1 ready slot and 3 machines booting: every job is covered, so no hedge...
    const s = snap({ waiting: 4, free: 1, creating: 3, total: 4 });
    expect(machinesFor(s, 0, limits, 0.5)).toBe(0);
    expect(machinesFor(s, 0, limits, 0.5, 'uncovered')).toBe(0);
    // ...but 3 of them wait for a boot: half of them, rounded up, is 2 more machines.
    expect(machinesFor(s, 0, limits, 0.5, 'waiting')).toBe(2);
    // The idle goal comes on top: 4 jobs + 2 idle + 2 hedged = 8 slots against 4.
    expect(machinesFor(s, 2, limits, 0.5, 'waiting')).toBe(4);
    // No job waits: nothing to hedge either way.
    expect(machinesFor(snap({ free: 1, creating: 1, total: 1 }), 2, limits, 0.5, 'waiting')).toBe(0);
  });

  it('caps at max_instances, counting every machine', () => {
    expect(
      instancesToCreate(snap({ waiting: 5, total: 1, inUse: 1 }), none, { ...limits, maxInstances: 3 }),
    ).toBe(2);
  });

  it('packs jobs by capacity_per_instance and caps slots by max_use_count', () => {
    expect(instancesToCreate(snap({ waiting: 5 }), none, { ...limits, capacityPerInstance: 2 })).toBe(3);
    expect(
      instancesToCreate(snap({ waiting: 5 }), none, { ...limits, capacityPerInstance: 4, maxUseCount: 1 }),
    ).toBe(5);
  });

  it('keeps idle slots: idle_count, or scale_factor clamped', () => {
    expect(instancesToCreate(snap({}), { ...none, idleCount: 2 }, limits)).toBe(2);
    expect(idleTarget({ ...none, idleCount: 1, scaleFactor: 0.5, scaleFactorLimit: 3 }, 10)).toBe(3);
    expect(idleTarget({ ...none, idleCount: 1, scaleFactor: 0.5 }, 1)).toBe(1);
  });

  it('removes idle machines past idle_time beyond the idle target, oldest first, and used-up ones', () => {
    const c = (key: string, idleSinceMs: number, createdAtMs: number, usedUp = false) => ({
      key,
      idleSinceMs,
      createdAtMs,
      free: usedUp ? 0 : 1,
      busy: 0,
      usedUp,
    });
    const cands = [c('b', 0, 2), c('a', 0, 1), c('young', 9_000, 0), c('done', 9_000, 0, true)];
    const policy = { ...none, idleCount: 1, idleTimeMs: 5_000 };
    expect(instancesToRemove(cands, snap({ free: 3 }), policy, 10_000)).toEqual(['done', 'a', 'b']);
    expect(instancesToRemove(cands.slice(0, 3), snap({ free: 3, waiting: 1 }), policy, 10_000)).toEqual([
      'a',
    ]);
  });

  it('uses the last matching policy period', () => {
    const policies = [
      policySchema.parse({ idle_count: 1, idle_time: '10m' }),
      policySchema.parse({ periods: ['* 9-17 * * mon-fri'], idle_count: 5 }),
    ];
    expect(activePolicy(policies, new Date('2026-03-02T10:00:00Z')).idleCount).toBe(5);
    expect(activePolicy(policies, new Date('2026-03-01T10:00:00Z'))).toMatchObject({
      idleCount: 1,
      idleTimeMs: 600_000,
    });
  });
});
