import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { createFakeClock, type FakeClock } from '../../test/kits/fake-clock.js';
import { policySchema, predictiveSchema } from './autoscaler-config.js';
import { autoscalerMetrics } from './metrics.js';
import { createFakeProvider, type FakeProvider } from '../../test/kits/autoscaler/fake-provider.js';
import { fakeProviderConfigSchema } from '../../test/kits/autoscaler/fake-provider-config.js';
import { testProviderGroup, testTaskscaler, tickFleet } from '../../test/kits/autoscaler/test-fleet.js';
import type { Lease, Taskscaler } from './taskscaler.js';
import type { FleetState } from './state-store.js';
import type { AnnouncedJobs } from './predictive.js';

interface Setup {
  clock: FakeClock;
  fake: FakeProvider;
  backup: FakeProvider;
  scaler: Taskscaler;
  registry: Registry;
  saved: FleetState[];
}

async function setup(
  opts: {
    maxUse?: number;
    maxInstances?: number;
    idleCount?: number;
    idleTime?: string;
    withBackup?: boolean;
    predictive?: Record<string, unknown>;
    announced?: () => AnnouncedJobs | undefined;
  } = {},
): Promise<Setup> {
  const clock = createFakeClock();
  const cfg = fakeProviderConfigSchema.parse({
    boot_seconds_min: 10,
    boot_seconds_max: 10,
    delete_seconds: 1,
  });
  const fake = createFakeProvider(cfg, { clock, random: () => 0.5 });
  const backup = createFakeProvider(cfg, { clock, random: () => 0.5 });
  const members = [{ name: 'p', group: fake, backup: false }];
  if (opts.withBackup) members.push({ name: 'b', group: backup, backup: true });
  const provider = await testProviderGroup(members, clock);
  const registry = new Registry();
  const saved: FleetState[] = [];
  const scaler = testTaskscaler({
    provider,
    limits: { capacityPerInstance: 1, maxUseCount: opts.maxUse ?? 0, maxInstances: opts.maxInstances ?? 0 },
    policies: () => [
      policySchema.parse({ idle_count: opts.idleCount ?? 0, idle_time: opts.idleTime ?? '0s' }),
    ],
    ...(opts.predictive ? { predictive: predictiveSchema.parse(opts.predictive) } : {}),
    ...(opts.announced ? { announced: opts.announced } : {}),
    clock,
    metrics: autoscalerMetrics(registry),
    persist: async (s) => void saved.push(s),
  });
  return { clock, fake, backup, scaler, registry, saved };
}

/** Advances the clock in 1 s ticks until `done` or `limit` ticks. */
function ticks(s: Setup, limit: number, done?: () => boolean): Promise<void> {
  return tickFleet(s.scaler, s.clock, limit, done);
}

function collect(p: Promise<Lease>, into: Lease[]): void {
  void p.then((l) => into.push(l));
}

describe('taskscaler', () => {
  it('takes jobs first and creates machines for them in one parallel request, up to max_instances', async () => {
    const s = await setup({ maxInstances: 2 });
    const leases: Lease[] = [];
    for (let i = 0; i < 3; i++) collect(s.scaler.acquire(`job${i}`), leases);
    await ticks(s, 30, () => leases.length === 2);
    expect(leases).toHaveLength(2);
    expect(s.fake.calls.increase).toBe(1);
    expect(s.fake.existing()).toHaveLength(2);
    expect(s.scaler.waiting()).toBe(1);
    await s.scaler.tick();
    expect(await s.registry.metrics()).toContain(
      'flotilla_autoscaler_jobs_waiting_for_capacity{runner="r1"} 1',
    );
    leases[0]?.release();
    await ticks(s, 5, () => leases.length === 3);
    expect(leases).toHaveLength(3);
    expect(s.fake.calls.increase).toBe(1);
  });

  it('removes a machine after max_use_count jobs', async () => {
    const s = await setup({ maxUse: 1 });
    const leases: Lease[] = [];
    collect(s.scaler.acquire('a'), leases);
    await ticks(s, 30, () => leases.length === 1);
    leases[0]?.release();
    await ticks(s, 5);
    expect(s.scaler.machines()).toHaveLength(0);
    expect(s.fake.existing()).toHaveLength(0);
  });

  it('keeps idle_count machines and trims extra ones after idle_time', async () => {
    const s = await setup({ idleCount: 1, idleTime: '30s' });
    const leases: Lease[] = [];
    for (const j of ['a', 'b']) collect(s.scaler.acquire(j), leases);
    await ticks(s, 30, () => leases.length === 2 && s.scaler.machines().length === 3);
    expect(s.scaler.machines()).toHaveLength(3);
    for (const l of leases) l.release();
    await ticks(s, 10);
    expect(s.scaler.machines()).toHaveLength(3);
    await ticks(s, 40);
    expect(s.scaler.machines().map((m) => m.state)).toEqual(['ready']);
  });

  it('replaces a machine that dies, and a retried job keeps its place', async () => {
    const s = await setup();
    const leases: Lease[] = [];
    collect(s.scaler.acquire('a'), leases);
    await ticks(s, 30, () => leases.length === 1);
    const first = leases[0] as Lease;
    s.fake.kill(first.connect.id);
    await ticks(s, 3);
    expect(first.lost).toBe(true);
    collect(s.scaler.acquire('late'), leases);
    first.release({ broken: true });
    collect(s.scaler.acquire('a', { front: true }), leases);
    await ticks(s, 30, () => leases.length === 3);
    expect(leases[1]?.connect.id).not.toBe(first.connect.id);
  });

  it('checks an idle machine before handing it out: a dead one is removed and the job takes another', async () => {
    const s = await setup({ idleCount: 1, idleTime: '1h' });
    await ticks(s, 30, () => s.scaler.machines().some((m) => m.state === 'ready'));
    const [idle] = s.scaler.machines();
    s.fake.kill((idle?.key ?? '').split('/')[1] ?? '');
    const leases: Lease[] = [];
    collect(s.scaler.acquire('job'), leases);
    await ticks(s, 40, () => leases.length === 1);
    expect(leases).toHaveLength(1);
    expect(leases[0]?.key).not.toBe(idle?.key);
    expect(s.scaler.machines().map((m) => m.key)).not.toContain(idle?.key);
    expect(await s.registry.metrics()).toContain(
      'flotilla_autoscaler_scale_operations_total{runner="r1",operation="lost",result="success"} 1',
    );
  });

  it('backs off on provider errors and never stops', async () => {
    const s = await setup();
    s.fake.failNext('increase', 'rate_limit', 3);
    const leases: Lease[] = [];
    collect(s.scaler.acquire('a'), leases);
    await ticks(s, 60, () => leases.length === 1);
    expect(leases).toHaveLength(1);
    expect(s.fake.calls.increase).toBe(4);
  });

  it('fails over to the backup while the primary fails, and back when it recovers', async () => {
    const s = await setup({ withBackup: true, maxUse: 1 });
    s.fake.failNext('increase', 'capacity', 5);
    const leases: Lease[] = [];
    collect(s.scaler.acquire('a'), leases);
    await ticks(s, 90, () => leases.length === 1);
    expect(leases[0]?.key.startsWith('b/')).toBe(true);
    leases[0]?.release();
    await ticks(s, 40);
    collect(s.scaler.acquire('x'), leases);
    await ticks(s, 30, () => leases.length === 2);
    expect(leases.map((l) => l.key)).toEqual(['b/fake-1', 'p/fake-1']);
    expect(s.backup.existing()).toHaveLength(0);
  });

  it('persists machines and a restarted taskscaler adopts idle ones and removes those that had jobs', async () => {
    const s = await setup({ idleCount: 0, idleTime: '1h' });
    const leases: Lease[] = [];
    for (const j of ['a', 'b']) collect(s.scaler.acquire(j), leases);
    await ticks(s, 30, () => leases.length === 2);
    leases[0]?.release();
    await ticks(s, 1);
    const state = s.saved.at(-1) as FleetState;
    expect(state.machines.map((m) => m.busy).sort()).toEqual([0, 1]);
    const again = await setup({ idleTime: '1h' });
    again.scaler.adopt(state);
    expect(again.scaler.machines()).toHaveLength(2);
    expect(again.scaler.machines().filter((m) => m.state === 'removing')).toHaveLength(1);
  });

  it('predictive: holds the measured burst idle, explains why, and gives machines back when demand stops', async () => {
    const s = await setup({
      predictive: { enabled: true, history: '10m', use_within: '5m', scale_in_delay: '1m', boot_hedge: 0 },
    });
    const leases: Lease[] = [];
    const burst = async (): Promise<number> => {
      const before = leases.length;
      for (let k = 0; k < 3; k++) collect(s.scaler.acquire(`job${before + k}`), leases);
      let waited = 0;
      for (; waited < 60 && leases.length < before + 3; waited++) await ticks(s, 1);
      await ticks(s, 20);
      for (const l of leases.slice(before)) l.release();
      await ticks(s, 100);
      return waited;
    };
    // The first burst waits for a boot (nothing measured yet); later ones find 3 idle machines.
    expect(await burst()).toBeGreaterThanOrEqual(10);
    for (let i = 0; i < 4; i++) await burst();
    expect(await burst()).toBeLessThanOrEqual(1);
    expect(s.scaler.machines()).toHaveLength(3);
    const metrics = await s.registry.metrics();
    expect(metrics).toContain(
      'flotilla_autoscaler_decisions_total{runner="r1",action="create",reason="waiting_jobs"} 6',
    );
    expect(metrics).toMatch(/decisions_total\{runner="r1",action="create",reason="predicted_demand"\} \d+/);
    // No arrivals for the history span plus the hysteresis: the pool goes, and says why.
    const removed = async (): Promise<number> =>
      Number(
        /action="remove",reason="above_predicted_demand"\} (\d+)/.exec(await s.registry.metrics())?.[1] ?? 0,
      );
    const before = await removed();
    await ticks(s, 12 * 60);
    expect(s.scaler.machines()).toHaveLength(0);
    expect((await removed()) - before).toBe(3);
  });

  it('predictive cancel_surplus_boots: a booting machine no job needs any more goes, one boot after the last job', async () => {
    const run = async (cancel: boolean): Promise<{ states: string[]; metrics: string }> => {
      const s = await setup({
        predictive: { enabled: true, boot_hedge: 0, initial_boot_time: '3s', cancel_surplus_boots: cancel },
      });
      const abort = new AbortController();
      s.scaler.acquire('gone', { signal: abort.signal }).catch(() => undefined);
      await ticks(s, 2);
      expect(s.scaler.machines().map((m) => m.state)).toEqual(['creating']);
      // The job is cancelled while its machine boots (10 s): nothing needs the machine now.
      abort.abort();
      await ticks(s, 4);
      return { states: s.scaler.machines().map((m) => m.state), metrics: await s.registry.metrics() };
    };
    const on = await run(true);
    expect(on.states).toEqual([]);
    expect(on.metrics).toContain(
      'flotilla_autoscaler_decisions_total{runner="r1",action="remove",reason="surplus_booting"} 1',
    );
    // Off (the default): the machine boots on.
    expect((await run(false)).states).toEqual(['creating']);
  });

  it('predictive cancel_surplus_boots_at_once: a booting machine no job needs goes at once, unless its paid time is long', async () => {
    const run = async (predictive: Record<string, unknown>): Promise<string[]> => {
      const s = await setup({
        // One boot is taken as 30 s: cancel_surplus_boots alone waits that long after the last job.
        predictive: { enabled: true, boot_hedge: 0, initial_boot_time: '30s', ...predictive },
      });
      const abort = new AbortController();
      s.scaler.acquire('gone', { signal: abort.signal }).catch(() => undefined);
      await ticks(s, 2);
      expect(s.scaler.machines().map((m) => m.state)).toEqual(['creating']);
      abort.abort();
      await ticks(s, 3);
      return s.scaler.machines().map((m) => m.state);
    };
    expect(await run({ cancel_surplus_boots_at_once: true })).toEqual([]);
    // Only after the burst (cancel_surplus_boots): 3 s after the last job is too soon.
    expect(await run({ cancel_surplus_boots: true })).toEqual(['creating']);
    // An hourly bill: the machine's paid hour is longer than one boot, so it boots on.
    expect(await run({ cancel_surplus_boots_at_once: true, billing_increment: '1h' })).toEqual(['creating']);
  });

  it('predictive remove_surplus_at_floor: a job machine back above the idle_count floor goes without idle_time', async () => {
    /** Floor of 3, idle_time 1 min: one job takes a floor machine (refilled at once) and runs 30 s. */
    const run = async (on: boolean): Promise<number[]> => {
      const s = await setup({
        idleCount: 3,
        idleTime: '1m',
        predictive: { enabled: true, boot_hedge: 0, remove_surplus_at_floor: on },
      });
      await ticks(s, 30);
      const leases: Lease[] = [];
      collect(s.scaler.acquire('job'), leases);
      await ticks(s, 30);
      const during = s.scaler.machines().length;
      for (const l of leases) l.release();
      await ticks(s, 5);
      const after = s.scaler.machines().filter((m) => m.state !== 'removing').length;
      await ticks(s, 60);
      return [during, after, s.scaler.machines().length];
    };
    // On: 4 machines while the job runs (the refill), back to the floor of 3 within seconds.
    expect(await run(true)).toEqual([4, 3, 3]);
    // Off: the surplus machine (the refill, idle since it booted 20 s ago) waits out idle_time first.
    expect(await run(false)).toEqual([4, 4, 3]);
  });

  it('predictive announced_jobs: boots ahead for uncovered announced jobs, keeps a stage’s freed machine, then lets them go', async () => {
    const run = async (mode: string): Promise<number[]> => {
      let announced: AnnouncedJobs | undefined = { created: 3, next: 3, uncovered: 0 };
      const s = await setup({
        idleTime: '0s',
        predictive: { enabled: true, boot_hedge: 0, billing_minimum: '0s', announced_jobs: mode },
        announced: () => announced,
      });
      // A pipeline's first stage: two jobs; its next stage has three (one more than the two free).
      const leases: Lease[] = [];
      for (let k = 0; k < 2; k++) collect(s.scaler.acquire(`build${k}`), leases);
      announced = { created: 3, next: 3, uncovered: 1 };
      await ticks(s, 30);
      const whileRunning = s.scaler.machines().length;
      // One first-stage job ends: its machine is kept for the next stage (2 uncovered now).
      leases[0]!.release();
      announced = { created: 3, next: 3, uncovered: 2 };
      await ticks(s, 30);
      const afterOne = s.scaler.machines().filter((m) => m.state !== 'removing').length;
      // The coordinator announces nothing any more (say the pipeline was cancelled): they go.
      leases[1]!.release();
      announced = undefined;
      await ticks(s, 30);
      return [whileRunning, afterOne, s.scaler.machines().length];
    };
    // 2 machines for the jobs + 1 booted ahead; then 1 busy + 2 kept; then none.
    expect(await run('uncovered')).toEqual([3, 3, 0]);
    // keep: nothing booted ahead, but the freed machine stays.
    expect(await run('keep')).toEqual([2, 2, 0]);
    // off: the freed machine goes at once (idle_time 0, no pool measured).
    expect(await run('off')).toEqual([2, 1, 0]);
  });

  it('predictive announced_jobs = "due": boots ahead for an announced stage only once it is due within two boots', async () => {
    const run = async (mode: string): Promise<number[]> => {
      let announced: AnnouncedJobs | undefined;
      const s = await setup({
        idleTime: '0s',
        predictive: { enabled: true, boot_hedge: 0, billing_minimum: '0s', announced_jobs: mode },
        announced: () => announced,
      });
      // Measured first: boots of 10 s, and two jobs of 60 s each (announced: no burst counted).
      const first: Lease[] = [];
      for (let k = 0; k < 2; k++) collect(s.scaler.acquire(`warm${k}`, { announced: true }), first);
      await ticks(s, 30, () => first.length === 2);
      await ticks(s, 60);
      for (const l of first) l.release();
      await ticks(s, 30);
      const idle = s.scaler.machines().length;
      // A pipeline's current stage: one job; its next stage: three (two uncovered).
      const at = s.clock.now().getTime();
      const stage = () => ({ next: 3, unfinished: 1, elapsedMs: s.clock.now().getTime() - at });
      announced = { created: 3, next: 3, uncovered: 2, stages: [stage()] };
      const leases: Lease[] = [];
      collect(s.scaler.acquire('build', { announced: true }), leases);
      await ticks(s, 20, () => leases.length === 1);
      announced = { created: 3, next: 3, uncovered: 2, stages: [stage()] };
      await ticks(s, 5);
      // Not due yet: the job runs 60 s, its stage ends in about 45 s, two boots are 20 s.
      const early = s.scaler.machines().length;
      await ticks(s, 30, () => {
        announced = { created: 3, next: 3, uncovered: 2, stages: [stage()] };
        return false;
      });
      return [idle, early, s.scaler.machines().length];
    };
    // due: nothing booted for the next stage until it is due within 20 s (1 machine, then 3).
    expect(await run('due')).toEqual([0, 1, 3]);
    // uncovered: both booted as soon as announced.
    expect(await run('uncovered')).toEqual([0, 3, 3]);
  });
});
