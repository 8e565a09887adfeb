import { describe, expect, it } from 'vitest';

import { predictiveSchema } from './autoscaler-config.js';
import {
  burstCounts,
  createDemandModel,
  onHalfTheDays,
  quantile,
  type DemandSettings,
  type Forecast,
} from './demand.js';
import { coveredSlots } from './due.js';
import {
  createHysteresis,
  createPlanner,
  predictedIdle,
  announcedBoots,
  announcedSlots,
  predictiveRemovals,
  rateTrend,
  surplusBooting,
  unusedPaidMs,
  type PredictiveSettings,
} from './predictive.js';

const MIN = 60_000;
const HOUR = 3_600_000;

const demandSettings: DemandSettings = {
  historyMs: HOUR,
  bucketMs: 30 * MIN,
  days: 7,
  initialBootMs: MIN,
  bootQuantile: 0.9,
  trendMs: 0,
  lastUseWithinMs: 0,
};

const policy: PredictiveSettings = {
  waitQuantile: 0.95,
  useWithinMs: 30 * MIN,
  scaleInDelayMs: 5 * MIN,
  billingMinimumMs: MIN,
  billingIncrementMs: 1000,
  maxIdle: 0,
  bootHedge: 0,
  cancelSurplusBoots: false,
  cancelSurplusBootsAtOnce: false,
  bootHedgeOver: 'uncovered',
  removeSurplusAtFloor: false,
  lastUseWithinMs: 0,
  announcedJobs: 'off',
  dueLeadBoots: 1,
  dueKeepBoots: 1,
  reserveCovered: false,
};

/** A forecast over one hour with the given burst positions. */
const forecast = (bursts: number[], over: Partial<Forecast> = {}): Forecast => ({
  bootMs: MIN,
  jobs: bursts.length,
  bursts: [...bursts].sort((a, b) => a - b),
  spanMs: HOUR,
  meanJobMs: 0,
  recentJobs: 0,
  trendMs: 0,
  recentLargestBurst: 0,
  ...over,
});

/** `n` bursts of `size` jobs at once, `gapMs` apart, from `startMs`. */
function bursts(
  model: ReturnType<typeof createDemandModel>,
  n: number,
  size: number,
  gapMs: number,
  startMs = 0,
) {
  for (let i = 0; i < n; i++) for (let k = 0; k < size; k++) model.arrival(startMs + i * gapMs);
}

describe('measured demand', () => {
  it('keeps the last 500 job durations, ascending, for due times', () => {
    const model = createDemandModel(demandSettings);
    for (let i = 0; i < 600; i++) model.jobDone(600 - i);
    const d = model.durations();
    expect(d).toHaveLength(500);
    expect([d[0], d.at(-1)]).toEqual([1, 500]);
    model.jobDone(1000);
    expect(model.durations().at(-1)).toBe(1000);
  });

  it('gives each job its position among the arrivals of one boot time before it', () => {
    // Three at once, one 30 s later (inside a 60 s boot), one 2 min later (alone).
    expect(burstCounts([0, 0, 0, 30_000, 150_000], MIN)).toEqual([1, 2, 3, 4, 1]);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
  });

  it('uses the measured boot-time percentile of the provider that booted last', () => {
    const m = createDemandModel(demandSettings);
    expect(m.forecast(0).bootMs).toBe(MIN);
    for (let s = 1; s <= 10; s++) m.boot('slow', s * 10_000);
    expect(m.forecast(0).bootMs).toBe(90_000);
    m.boot('fast', 20_000);
    expect(m.forecast(0).bootMs).toBe(20_000);
  });

  it('counts recent arrivals and those of the same time of day on earlier days', () => {
    const m = createDemandModel(demandSettings);
    // Yesterday at 10:00–10:20, a burst of 4 every 5 minutes; nothing today yet.
    const yesterday10 = 10 * HOUR;
    bursts(m, 5, 4, 5 * MIN, yesterday10);
    const today = yesterday10 + 24 * HOUR;
    const f = m.forecast(today);
    expect(f.jobs).toBe(20);
    expect(f.bursts.filter((b) => b === 4)).toHaveLength(5);
    // An hour later the coming half hour of yesterday was quiet, and nothing is recent.
    expect(m.forecast(today + HOUR).jobs).toBe(0);
  });

  it('drops arrivals older than the kept history', () => {
    const m = createDemandModel({ ...demandSettings, days: 1 });
    m.arrival(0);
    m.arrival(49 * HOUR);
    expect(m.forecast(49 * HOUR).jobs).toBe(1);
  });

  it("reports the largest burst of the last last_use_within and of earlier days' coming bucket", () => {
    const m = createDemandModel({ ...demandSettings, lastUseWithinMs: 30 * MIN });
    // Yesterday: one job at 09:00, then a burst of 5 at 10:10.
    m.arrival(9 * HOUR);
    bursts(m, 1, 5, 0, 10 * HOUR + 10 * MIN);
    const today10 = 34 * HOUR;
    // Nothing today yet; yesterday's 10:00–10:30 bucket holds the burst of 5.
    expect(m.forecast(today10).recentLargestBurst).toBe(5);
    // At 10:45 yesterday's coming bucket is quiet and nothing arrived in the last 30 min.
    expect(m.forecast(today10 + 45 * MIN).recentLargestBurst).toBe(0);
    // A burst of 3 today at 10:40 is the largest of the last 30 min until 11:10.
    bursts(m, 1, 3, 0, today10 + 40 * MIN);
    expect(m.forecast(today10 + 45 * MIN).recentLargestBurst).toBe(3);
    expect(m.forecast(today10 + 70 * MIN).recentLargestBurst).toBe(3);
    expect(m.forecast(today10 + 71 * MIN).recentLargestBurst).toBe(0);
    // Not measured without the key.
    const off = createDemandModel(demandSettings);
    bursts(off, 1, 3, 0, 0);
    expect(off.forecast(MIN).recentLargestBurst).toBe(0);
  });

  it('takes from earlier days the largest burst that at least half of them reached', () => {
    expect([[], [5], [4, 7], [2, 9, 6]].map(onHalfTheDays)).toEqual([0, 5, 7, 6]);
    const m = createDemandModel({ ...demandSettings, lastUseWithinMs: 30 * MIN });
    // Three earlier days with a burst of 2, 6 and 9 at 10:10; one job at midnight before them.
    m.arrival(0);
    [2, 6, 9].forEach((size, d) => bursts(m, 1, size, 0, d * 24 * HOUR + 10 * HOUR + 10 * MIN));
    // At 10:00 of the fourth day: two of the three days reached slot 6, one reached slot 9.
    expect(m.forecast(3 * 24 * HOUR + 10 * HOUR).recentLargestBurst).toBe(6);
  });
});

describe('predictive idle pool', () => {
  it('holds the percentile of burst positions when every slot is used often enough', () => {
    // Twelve bursts of 5 in the hour: each of slots 1–5 is used 12 times an hour.
    const b = Array.from({ length: 12 }, () => [1, 2, 3, 4, 5]).flat();
    expect(predictedIdle(forecast(b), policy, 0).slots).toBe(5);
    // At the 80th percentile of the jobs, four slots serve them.
    expect(predictedIdle(forecast(b), { ...policy, waitQuantile: 0.8 }, 0).slots).toBe(4);
  });

  it('does not hold a slot that bursts reach less than once per use_within', () => {
    // Twelve bursts of 2 and one burst of 10 in the hour: slots 3–10 are used once an hour.
    const b = [
      ...Array.from({ length: 12 }, () => [1, 2]).flat(),
      ...Array.from({ length: 10 }, (_, i) => i + 1),
    ];
    const g = predictedIdle(forecast(b), policy, 0);
    // 34 jobs; the 95th percentile (nearest rank 33) is position 9.
    expect(g.detail.percentileSlots).toBe(9);
    expect(g.slots).toBe(2);
    // Asked to hold slots used once an hour, it holds the percentile.
    expect(predictedIdle(forecast(b), { ...policy, useWithinMs: HOUR }, 0).slots).toBe(9);
  });

  it('counts on running jobs to free slots within one boot time', () => {
    const b = Array.from({ length: 12 }, () => [1, 2, 3, 4, 5]).flat();
    // 10 busy, jobs of 5 min, boot 1 min: 10 × 1 / 5 = 2 slots expected back, as soon as a boot.
    const g = predictedIdle(forecast(b, { meanJobMs: 5 * MIN }), policy, 10);
    expect(g.detail.expectedReleases).toBe(2);
    expect(g.slots).toBe(3);
    // Jobs shorter than a boot: every busy slot comes back before a new machine would.
    expect(predictedIdle(forecast(b, { meanJobMs: MIN / 2 }), policy, 3).detail.expectedReleases).toBe(3);
  });

  it('follows a recent rate above the measured one by more than one large burst', () => {
    // An hour of 60 jobs (bursts of 5, percentile 5): 10 expected in a 10-minute window.
    const b = Array.from({ length: 12 }, () => [1, 2, 3, 4, 5]).flat();
    const window = { trendMs: 10 * MIN };
    // 14 recent jobs: 4 above the expected 10, less than one burst of 5 — no change detected.
    expect(rateTrend(forecast(b, { ...window, recentJobs: 14 }), 5)).toBe(1);
    // 40 recent jobs: a spike at 4× the measured rate (30 above, six bursts' worth).
    expect(rateTrend(forecast(b, { ...window, recentJobs: 40 }), 5)).toBe(4);
    // No job in the window: no change (the pool shrinks through the history, not at once).
    expect(rateTrend(forecast(b, { ...window, recentJobs: 0 }), 5)).toBe(1);
    // Detection off.
    expect(rateTrend(forecast(b, { recentJobs: 40 }), 5)).toBe(1);
  });

  it('holds the slots the recent rate uses often enough', () => {
    // One burst of 10 in the measured hour: each slot is used once an hour, below once per
    // use_within (30 min), so nothing is held ...
    const b = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(predictedIdle(forecast(b, { trendMs: 10 * MIN, recentJobs: 1 }), policy, 0).slots).toBe(0);
    // ... but 30 jobs in the last 10 minutes (28.3 above the 1.7 expected) is 4× (capped): slot k
    // is then expected 4 times an hour, twice per use_within, and all 10 are held.
    const spike = predictedIdle(forecast(b, { trendMs: 10 * MIN, recentJobs: 30 }), policy, 0);
    expect(spike.detail.trend).toBe(4);
    expect(spike.slots).toBe(10);
  });

  it('holds only slots a burst reached within last_use_within', () => {
    // Three bursts of 8 in the measured hour: slots 1–8 are used 3 times, more than once per
    // use_within, so all 8 are held ...
    const b = Array.from({ length: 3 }, () => [1, 2, 3, 4, 5, 6, 7, 8]).flat();
    expect(predictedIdle(forecast(b, { recentLargestBurst: 2 }), policy, 0).slots).toBe(8);
    // ... unless the largest burst of the last span reached only slot 2, or none came.
    const lately = { ...policy, lastUseWithinMs: 30 * MIN };
    expect(predictedIdle(forecast(b, { recentLargestBurst: 2 }), lately, 0).slots).toBe(2);
    expect(predictedIdle(forecast(b, { recentLargestBurst: 0 }), lately, 0).slots).toBe(0);
    // The bound never raises the pool above what the rates hold.
    expect(predictedIdle(forecast(b, { recentLargestBurst: 20 }), lately, 0).slots).toBe(8);
  });

  it("lets a spike's slots go last_use_within after its last burst, not when it leaves history", () => {
    const plan = (extra: object) => {
      const planner = createPlanner(predictiveSchema.parse({ enabled: true, ...extra }));
      // Bursts of 8 at 0, 5 and 10 min, then a burst of 2 at 25 min (boot 1 min: no overlap).
      for (const at of [0, 5, 10]) bursts(planner.demand, 1, 8, 0, at * MIN);
      bursts(planner.demand, 1, 2, 0, 25 * MIN);
      return [35, 41, 56].map((at) => planner.goal(at * MIN, 0).slots);
    };
    // The hour holds three uses of slots 1–8 (≥ 2 per hour = once per use_within) until 60 min.
    expect(plan({})).toEqual([8, 8, 8]);
    // With the key: the 10-min burst is within 30 min at 35 min; at 41 min only the burst of 2
    // is; at 56 min no burst is.
    expect(plan({ last_use_within: '30m' })).toEqual([8, 2, 0]);
  });

  it('caps the pool at max_idle and holds nothing without demand', () => {
    const b = Array.from({ length: 12 }, () => [1, 2, 3, 4, 5]).flat();
    expect(predictedIdle(forecast(b), { ...policy, maxIdle: 3 }, 0).slots).toBe(3);
    expect(predictedIdle(forecast([]), policy, 0).slots).toBe(0);
  });

  it('plans from the configured keys: a steady train of bursts of 3 asks for 3 slots', () => {
    const planner = createPlanner(predictiveSchema.parse({ enabled: true }));
    for (let i = 0; i < 12; i++) for (let k = 0; k < 3; k++) planner.demand.arrival(i * 5 * MIN);
    const g = planner.goal(55 * MIN, 0);
    expect(g.slots).toBe(3);
    expect(planner.demandLikely()).toBe(true);
  });
});

describe('predictive scale-in', () => {
  it('cancels the youngest booting machines beyond the needed slots', () => {
    const booting = [
      { key: 'b1', createdAtMs: 0 },
      { key: 'b2', createdAtMs: 20_000 },
      { key: 'b3', createdAtMs: 10_000 },
    ];
    // 2 free + 3 booting = 5 slots for 3 needed: the two youngest (b2, then b3) go.
    expect(surplusBooting(booting, 5, 3, 1).map((r) => r.key)).toEqual(['b2', 'b3']);
    // 5 needed: none.
    expect(surplusBooting(booting, 5, 5, 1)).toEqual([]);
    // Machines of 2 slots: 8 slots for 5 needed, one machine (2 slots) can go, not two.
    expect(surplusBooting(booting, 8, 5, 2).map((r) => r.reason)).toEqual(['surplus_booting']);
  });

  const idle = (key: string, createdAtMs: number, idleSinceMs: number) => ({
    key,
    createdAtMs,
    idleSinceMs,
    free: 1,
    busy: 0,
    usedUp: false,
  });

  it('keeps the highest goal of the last scale_in_delay', () => {
    const h = createHysteresis(5 * MIN);
    h.record(0, 8);
    h.record(MIN, 2);
    expect(h.keep(MIN)).toBe(8);
    expect(h.keep(5 * MIN)).toBe(8);
    h.record(5 * MIN + 1, 1);
    expect(h.keep(5 * MIN + 1)).toBe(2);
    expect(h.keep(6 * MIN + 1)).toBe(1);
  });

  it('bills the minimum, then per increment', () => {
    expect(unusedPaidMs(0, 20_000, policy)).toBe(40_000);
    expect(unusedPaidMs(0, 90_000, policy)).toBe(0);
    const hourly = { ...policy, billingMinimumMs: HOUR, billingIncrementMs: HOUR };
    expect(unusedPaidMs(0, 90 * MIN, hourly)).toBe(30 * MIN);
  });

  it('removes idle machines beyond the kept slots, least paid time left first', () => {
    const now = 10 * MIN;
    const cands = [
      idle('old', 0, 5 * MIN),
      idle('newer', MIN, 5 * MIN),
      idle('fresh', now - 20_000, now - 20_000),
    ];
    // Keep 1 of 3; idle_time 1 min: "fresh" is neither idle long enough nor paid up.
    expect(predictiveRemovals(cands, 3, 1, MIN, now, true, policy).map((r) => r.key)).toEqual([
      'old',
      'newer',
    ]);
    // Keep 2: the oldest of the paid-up machines goes.
    expect(predictiveRemovals(cands, 3, 2, MIN, now, true, policy).map((r) => r.key)).toEqual(['old']);
  });

  it('keeps a machine whose paid time is unused while jobs arrive, and not when none do', () => {
    const hourly = { ...policy, billingMinimumMs: HOUR, billingIncrementMs: HOUR };
    const now = 30 * MIN;
    const cands = [idle('a', 0, 10 * MIN)];
    expect(predictiveRemovals(cands, 1, 0, MIN, now, true, hourly)).toEqual([]);
    expect(predictiveRemovals(cands, 1, 0, MIN, now, false, hourly)).toEqual([
      { key: 'a', reason: 'above_predicted_demand' },
    ]);
    // At the end of its paid hour it goes even while jobs arrive.
    expect(predictiveRemovals(cands, 1, 0, MIN, HOUR, true, hourly)).toHaveLength(1);
  });
});

describe('announced jobs', () => {
  // Two pipelines: A's next stage has 5 jobs and 2 of its current stage are unfinished (3
  // uncovered); B's next stage has 1 job and 4 unfinished (none uncovered).
  const a = { created: 9, next: 6, uncovered: 3 };

  it('keeps free slots for the next stages’ jobs that the current stages will not cover', () => {
    expect(announcedSlots(a, 'uncovered')).toBe(3);
    expect(announcedSlots(a, 'keep')).toBe(3);
    expect(announcedSlots(a, 'next')).toBe(6);
  });

  it('creates slots ahead for them, except with keep', () => {
    expect(announcedBoots(a, 'uncovered')).toBe(3);
    expect(announcedBoots(a, 'next')).toBe(6);
    expect(announcedBoots(a, 'keep')).toBe(0);
  });

  it('holds nothing when off or when the coordinator announces nothing (a GitLab coordinator)', () => {
    expect(announcedSlots(a, 'off')).toBe(0);
    expect(announcedBoots(a, 'off')).toBe(0);
    expect(announcedSlots(undefined, 'uncovered')).toBe(0);
    expect(announcedBoots(undefined, 'next')).toBe(0);
  });

  describe('with due (due times estimated)', () => {
    const S = 1000;
    /** Measured durations: 60 s ×5 and 120 s ×5. */
    const durations = [60, 60, 60, 60, 60, 120, 120, 120, 120, 120].map((x) => x * S);
    // A: 3 uncovered, one job of its current stage pending for 50 s; B: 2 uncovered, two jobs
    // just pending; C: covered (its 2 unfinished jobs' machines take its one next-stage job).
    const told = {
      created: 8,
      next: 7,
      uncovered: 5,
      stages: [
        { next: 4, unfinished: 1, elapsedMs: 50 * S },
        { next: 2, unfinished: 0, elapsedMs: 0 },
        { next: 1, unfinished: 2, elapsedMs: 0 },
      ],
    };
    const basis = (bootAheadMs: number, keepMs: number) => ({ durations, bootAheadMs, keepMs });

    it('boots ahead for the uncovered jobs expected within one boot, keeps for those expected later', () => {
      // Within 20 s: A's job (50 s old) ends by 70 s with P 1/2 (60 s of 60/120 s): 1.5 jobs; B's
      // stage is over: 2 jobs. 3.5 → 4 slots.
      expect(announcedBoots(told, 'due', basis(20 * S, 80 * S))).toBe(4);
      // Within 80 s: A's job ends by 130 s for sure: 3 + 2.
      expect(announcedSlots(told, 'due', basis(20 * S, 80 * S))).toBe(5);
      // Within 5 s: A's job cannot end (none of the durations lies in 50–55 s): B's 2.
      expect(announcedBoots(told, 'due', basis(5 * S, 5 * S))).toBe(2);
    });

    it('without stages from the coordinator, or without a basis, holds the uncovered jobs', () => {
      const { stages: _s, ...counts } = told;
      expect(announcedBoots(counts, 'due', basis(5 * S, 5 * S))).toBe(5);
      expect(announcedSlots(told, 'due')).toBe(5);
      expect(announcedSlots(undefined, 'due', basis(5 * S, 5 * S))).toBe(0);
    });

    it('the covered jobs are next less uncovered', () => {
      expect(coveredSlots(told)).toBe(2);
    });
  });
});
