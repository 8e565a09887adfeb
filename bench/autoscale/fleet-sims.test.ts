import { describe, expect, it } from 'vitest';

import { simulateDockerMachine } from './docker-machine-sim.js';
import { CALM_PROVIDER } from './calm-provider.js';
import type { FleetSettings } from './fleet-settings.js';
import { simulateTaskscaler } from './taskscaler-sim.js';
import type { WorkloadJob } from './workload.js';

const settings = (over: Partial<FleetSettings> = {}, provider: Partial<FleetSettings['provider']> = {}) => ({
  idleCount: 0,
  idleTimeSeconds: 600,
  maxMachines: 10,
  checkIntervalSeconds: 3,
  readyTimeoutSeconds: 300,
  seed: 1,
  daySeconds: 1200,
  ...over,
  provider: { ...CALM_PROVIDER, ...provider },
});

const burst = (n: number, arrival: number, duration: number): WorkloadJob[] =>
  Array.from({ length: n }, () => ({ arrival, duration, pipeline: 1 }));

const fleets = [
  ['Flotilla taskscaler', simulateTaskscaler],
  ['docker+machine baseline', simulateDockerMachine],
] as const;

describe.each(fleets)('%s on a simulated clock and provider', (_name, simulate) => {
  it('runs every job once, on machines created for them, busy exactly the jobs’ minutes', async () => {
    const r = await simulate(burst(3, 10, 120), settings());
    expect(r.waits).toHaveLength(3);
    expect(r.timedOut).toBe(0);
    // Nothing idle was kept: each job waits at least one boot, and not much more than a check.
    for (const w of r.waits) expect(w).toBeGreaterThanOrEqual(60);
    for (const w of r.waits) expect(w).toBeLessThan(60 + 10);
    expect(r.busyMinutes).toBeCloseTo(6, 5);
    expect(r.provider.created).toBe(3);
    expect(r.bootingMinutes).toBeCloseTo(3, 5);
  });

  it('keeps IdleCount machines ready, so a later job does not wait for a boot', async () => {
    const r = await simulate(burst(1, 600, 60), settings({ idleCount: 2 }));
    expect(r.waits).toHaveLength(1);
    expect(r.waits[0]).toBeLessThanOrEqual(3);
    // Two machines idle from their boot until the job: idle time was paid for it.
    expect(r.idleMinutes).toBeGreaterThan(2 * 8);
  });

  it('removes machines idle past IdleTime when there is no IdleCount', async () => {
    const r = await simulate(burst(2, 0, 60), settings({ idleTimeSeconds: 120 }));
    // Each machine: 1 min boot, 1 min busy, then idle past 120 s and deleted (10 s): about 2.2 min idle.
    expect(r.idleMinutes).toBeGreaterThan(2 * 2);
    expect(r.idleMinutes).toBeLessThan(2 * 2.6);
    expect(r.provider.deleteRequests).toBe(2);
  });

  it('gets through a create rate limit: all jobs run, later ones wait for the next minute', async () => {
    const r = await simulate(burst(6, 0, 60), settings({}, { mutationsPerMinute: 3 }));
    expect(r.waits).toHaveLength(6);
    expect(r.provider.rateLimited).toBeGreaterThan(0);
    expect(Math.max(...r.waits)).toBeGreaterThanOrEqual(120);
    expect(r.provider.created).toBe(6);
  });

  it('replaces machines that never become ready after the ready timeout', async () => {
    const r = await simulate(
      burst(1, 0, 60),
      settings({ readyTimeoutSeconds: 120 }, { neverReadyRatio: 0.5 }),
    );
    expect(r.waits).toHaveLength(1);
    expect(r.provider.neverReady).toBeGreaterThan(0);
    expect(r.waits[0]).toBeGreaterThanOrEqual(120 + 60);
  });
});

describe('Flotilla’s decisions and ready slots, as the simulation records them', () => {
  it('counts decisions per hour of the day and marks the jobs that found no ready idle slot', async () => {
    // Two idle machines (idle_count 2) from the start; a pipeline of 3 at 30 min takes both and
    // waits for one machine; one job at 90 min finds a ready slot again.
    const jobs = [...burst(3, 1800, 60), ...burst(1, 5400, 60)];
    const r = await simulateTaskscaler(jobs, settings({ idleCount: 2, daySeconds: 7200 }));
    expect(r.waits).toHaveLength(4);
    expect(r.noReadySlot?.filter(Boolean)).toHaveLength(1);
    expect(r.noReadySlot?.[3]).toBe(false);
    expect(r.decisionsByHour).toHaveLength(2);
    // Hour 0: the 2 idle machines, then 1 for the third job and 2 to refill the pool.
    expect(r.decisionsByHour?.[0]).toMatchObject({ 'create:idle_count': 4, 'create:waiting_jobs': 1 });
    // The hours add up to the day's decisions.
    const total = (key: string) => (r.decisionsByHour ?? []).reduce((a, h) => a + (h[key] ?? 0), 0);
    for (const [key, n] of Object.entries(r.decisions ?? {})) expect(total(key)).toBe(n);
  });
});

describe('provider outage (primary out of capacity)', () => {
  const outage = (toSeconds: number) => ({ outages: [{ fromSeconds: 0, toSeconds }] });

  it('Flotilla fails over to the backup provider at the first "no capacity", and back once the primary creates again', async () => {
    const s = { ...settings({}, outage(300)), backup: settings().provider };
    const r = await simulateTaskscaler([...burst(1, 0, 60), ...burst(1, 1000, 60)], s);
    expect(r.waits).toHaveLength(2);
    // failover_on_capacity (default): the backup is asked in the same call, so one boot on the
    // backup, not failover_after (1 min) + one boot.
    expect(r.waits[0]).toBeGreaterThanOrEqual(60);
    expect(r.waits[0]).toBeLessThan(60 + 30);
    expect(r.provider.outageErrors).toBeGreaterThan(0);
    expect(r.backup?.created).toBe(1);
    // After the outage the primary creates again and the backup is paused: the second job's machine.
    expect(r.provider.created).toBe(1);
  });

  it('docker+machine has no failover: jobs wait for the outage to end', async () => {
    const s = { ...settings({}, outage(600)), backup: settings().provider };
    const r = await simulateDockerMachine(burst(1, 0, 60), s);
    expect(r.waits).toHaveLength(1);
    expect(r.waits[0]).toBeGreaterThanOrEqual(600 + 60);
  });
});

describe.each(fleets)('%s with a staged pipeline', (_name, simulate) => {
  it('releases the second stage when the first has finished, and measures its wait from then', async () => {
    const jobs: WorkloadJob[] = [
      { arrival: 10, duration: 100, pipeline: 1, stage: 0 },
      { arrival: 10, duration: 200, pipeline: 1, stage: 0 },
      { arrival: 10, duration: 60, pipeline: 1, stage: 1 },
    ];
    const r = await simulate(jobs, settings({ idleTimeSeconds: 600 }));
    expect(r.waits).toHaveLength(3);
    // The first stage waits for two boots (60 s) from 10 s; its longer job ends 200 s after it starts.
    const end = Math.max(...r.waits.slice(0, 2).map((w, i) => 10 + w + (jobs[i]?.duration ?? 0)));
    expect(r.arrivals.slice(0, 2)).toEqual([10, 10]);
    expect(r.arrivals[2]).toBe(end);
    // The first stage's machines are still there (idle_time 600 s): the second stage starts at once.
    expect(r.waits[2]).toBeLessThanOrEqual(3);
    expect(r.provider.created).toBe(2);
  });
});
