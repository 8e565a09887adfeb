import { describe, expect, it } from 'vitest';

import { createClairvoyant, slotsNeeded } from './clairvoyant.js';
import { CALM_PROVIDER } from './calm-provider.js';
import type { FleetSettings } from './fleet-settings.js';
import { simulateTaskscaler } from './taskscaler-sim.js';

const job = (arrival: number, duration: number) => ({ arrival, duration });

describe('slotsNeeded', () => {
  it('needs nothing without arrivals, and one slot per job of a burst that runs past the horizon', () => {
    expect(slotsNeeded([], [50], 0, 60)).toBe(0);
    expect(slotsNeeded([job(10, 100), job(10, 100), job(12, 100)], [], 0, 60)).toBe(3);
  });

  it('lets a job that ends before the next arrives hand its machine on, in the same second too', () => {
    expect(slotsNeeded([job(10, 20), job(40, 50)], [], 0, 60)).toBe(1);
    expect(slotsNeeded([job(10, 20), job(30, 50)], [], 0, 60)).toBe(1);
    expect(slotsNeeded([job(10, 21), job(30, 50)], [], 0, 60)).toBe(2);
  });

  it('counts the machines running jobs free within the horizon, not after it', () => {
    // Two running jobs end at 20 and 90: only the first frees a machine for the arrivals at 30.
    expect(slotsNeeded([job(30, 100), job(30, 100)], [20, 90], 0, 60)).toBe(1);
    // A release after the arrival does not serve it; the peak counts.
    expect(slotsNeeded([job(30, 100), job(50, 100)], [40], 0, 60)).toBe(1);
    expect(slotsNeeded([job(30, 100)], [40], 0, 60)).toBe(1);
  });
});

describe('createClairvoyant', () => {
  const pool = () => createClairvoyant([job(300, 50), job(100, 50)], 60);

  it('looks at the arrivals within (t, t + lead] as the seconds go by', () => {
    const at = pool();
    expect([30, 39, 40, 99, 100, 239, 240, 300].map((t) => at(t, []))).toEqual([0, 0, 1, 1, 0, 0, 1, 0]);
  });

  it('counts the running jobs’ releases', () => {
    expect(pool()(250, [260])).toBe(0);
    expect(pool()(250, [301])).toBe(1);
  });
});

describe('the clairvoyant pool on the simulated fleet (60-s boots, no failures)', () => {
  const settings = (jobs: { arrival: number; duration: number }[], lead: number): FleetSettings => ({
    idleCount: 0,
    idleTimeSeconds: 0,
    maxMachines: 10,
    checkIntervalSeconds: 3,
    readyTimeoutSeconds: 300,
    listExpectingSeconds: 1,
    seed: 1,
    daySeconds: 1200,
    idleSlotsAt: createClairvoyant(jobs, lead),
    provider: CALM_PROVIDER,
  });
  const run = (jobs: { arrival: number; duration: number }[], lead: number) =>
    simulateTaskscaler(
      jobs.map((j) => ({ ...j, pipeline: 1 })),
      settings(jobs, lead),
    );

  it('has a machine ready when a job arrives if the lead covers the boot, and waits the rest if not', async () => {
    const early = await run([job(600, 60)], 90);
    // Asked for at 510, ready at 570: the job finds it.
    expect(early.waits[0]).toBeLessThanOrEqual(1);
    expect(early.provider.created).toBe(1);
    expect(early.bootingMinutes).toBeCloseTo(1, 1);
    // Idle from 570 to 600, then 10 s deleting after the job: about 40 s.
    expect(early.idleMinutes * 60).toBeGreaterThanOrEqual(38);
    expect(early.idleMinutes * 60).toBeLessThanOrEqual(44);
    const late = await run([job(600, 60)], 30);
    // Asked for at 570, ready at 630.
    expect(late.waits[0]).toBeGreaterThanOrEqual(30);
    expect(late.waits[0]).toBeLessThanOrEqual(32);
  });

  it('keeps a free machine for the next job only when that job arrives within the lead', async () => {
    const jobs = [job(600, 60), job(800, 60)];
    // Lead 90: at 660 nothing arrives before 750, so the machine goes; another boots at 710.
    const short = await run(jobs, 90);
    expect(short.provider.created).toBe(2);
    expect(Math.max(...short.waits)).toBeLessThanOrEqual(1);
    // Lead 200: the job at 800 is in sight when the first ends; its machine is kept.
    const long = await run(jobs, 200);
    expect(long.provider.created).toBe(1);
    expect(Math.max(...long.waits)).toBeLessThanOrEqual(1);
    // Kept idle 660–800 (140 s) instead of booting again (60 s) and deleting (10 s).
    expect(long.idleMinutes).toBeGreaterThan(short.idleMinutes);
  });
});
