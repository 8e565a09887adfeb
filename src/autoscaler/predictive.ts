/**
 * The predictive capacity policy (`[runners.autoscaler.predictive]`, opt-in). It sizes the idle
 * pool from measured demand instead of a fixed idle_count, and scales in with hysteresis and
 * billing awareness. Pure functions plus one small stateful planner; the taskscaler feeds it
 * events with their times (the same code runs in the manager and in the benchmark's simulation).
 *
 * Idle slots wanted now = the largest k such that
 *   - k ≤ the `wait_percentile` of the jobs' burst counts (jobs that arrived within one boot time
 *     before each job, see demand.ts): enough capacity for the expected arrivals during one boot
 *     at the wanted percentile, and no more;
 *   - slot k is expected to be used within `use_within`: the measured rate of jobs whose burst
 *     count reaches k is at least one per `use_within` (a slot that bursts rarely reach is not
 *     paid for all day);
 *   - with `last_use_within`, a burst reached slot k within that last span (or, on at least half
 *     of the earlier days, in their coming time-of-day bucket): the rate measured over the history says how often a
 *     slot is used, the last use says whether that rate still holds (after a spike, its slots go
 *     once no burst has reached them for that long, not when the spike leaves the history);
 * minus the slots running jobs are expected to free within one boot time (reuse before boot: a job
 * that takes a released slot waits no longer than it would for the machine a new slot needs; with
 * `announced_reserve`, not counting the machines announced next stages will take).
 * With `announced_jobs`, slots for the jobs the coordinator announced come on top (`announcedSlots`;
 * with `due`, only those expected soon, see due.ts).
 * gitlab-runner's idle_count / scale_factor stay a floor. Burst detection: when the jobs of the
 * last `trend_window` differ from what the measured rate expects by more than one large burst, the
 * slot use rates are scaled up by the recent rate over the measured one (up to 4×, see rateTrend).
 *
 * Scale-in keeps the highest target of the last `scale_in_delay` (hysteresis); an idle machine
 * above it is removed once idle past idle_time, except while its paid time (billing minimum and
 * increment) is not used up and jobs are still arriving.
 */
import type { AnnouncedJobs } from '../api/announced-jobs.js';
import type { PredictiveConfig } from './autoscaler-config.js';
import {
  createDemandModel,
  quantile,
  type DemandModel,
  type DemandSettings,
  type Forecast,
} from './demand.js';
import { uncoveredDueWithin } from './due.js';
import type { IdleCandidate } from './policy.js';

export interface PredictiveSettings {
  /** Share of jobs that should find a ready slot on arrival (0–1). */
  waitQuantile: number;
  useWithinMs: number;
  scaleInDelayMs: number;
  billingMinimumMs: number;
  billingIncrementMs: number;
  /** Most idle slots the forecast may ask for; 0 = no limit. */
  maxIdle: number;
  /** Extra machines for jobs that wait for a boot, as a share of them. */
  bootHedge: number;
  /** Remove booting machines beyond the kept slots once a burst is over. */
  cancelSurplusBoots: boolean;
  /** The same whenever no job waits (not only once the burst is over). */
  cancelSurplusBootsAtOnce: boolean;
  /** The jobs the hedge counts: those no machine covers yet, or every waiting job. */
  bootHedgeOver: 'uncovered' | 'waiting';
  /** Idle machines above the idle_count floor go without idle_time while the kept pool is the floor. */
  removeSurplusAtFloor: boolean;
  /**
   * A slot is held only if a burst reached it within this last span or, on at least half of the
   * earlier days, in their coming time-of-day bucket (0 = no such bound): `Forecast.recentLargestBurst`.
   */
  lastUseWithinMs: number;
  /** Idle slots held for the jobs the coordinator announced (`announcedSlots`). */
  announcedJobs: AnnouncedMode;
  /** With `due`: jobs due within this many boot times are booted for ahead. */
  dueLeadBoots: number;
  /** With `due`: a stage's freed machines are kept for jobs due within this many boot times. */
  dueKeepBoots: number;
  /** With announced jobs: the releases the forecast expects leave out the machines next stages take. */
  reserveCovered: boolean;
}

/** Jobs the coordinator announced before they are pending (see src/api/announced-jobs.ts). */
export type { AnnouncedJobs };

/** What `announced_jobs` holds idle slots for. */
export type AnnouncedMode = 'off' | 'uncovered' | 'next' | 'keep' | 'due';

/** `announced_due_lead` and `announced_due_keep` when not set, in boot times (docs/benchmarks.md). */
export const DUE_LEAD_BOOTS = 2;
export const DUE_KEEP_BOOTS = 8;

/** What `due` estimates announced jobs' due times from (see due.ts). */
export interface DueBasis {
  /** Measured job durations, ascending. */
  durations: readonly number[];
  /** Jobs due within this are booted for ahead (`announced_due_lead` boot times). */
  bootAheadMs: number;
  /** A stage's freed machines are kept for jobs due within this (`announced_due_keep` boot times). */
  keepMs: number;
}

/**
 * Free slots scale-in keeps for announced jobs, on top of the forecast pool: with `uncovered` and
 * `keep`, the next stages' jobs that the current stages' machines will not serve (machines freed
 * by a stage's early jobs are kept for its next stage); with `next`, every next-stage job; with
 * `due`, the uncovered jobs expected to be pending within `basis.keepMs` (`uncovered` when the
 * coordinator sends no stages). PURE.
 */
export function announcedSlots(a: AnnouncedJobs | undefined, mode: AnnouncedMode, basis?: DueBasis): number {
  if (!a || mode === 'off') return 0;
  if (mode === 'due' && a.stages && basis) return uncoveredDueWithin(a.stages, basis.durations, basis.keepMs);
  return Math.max(0, mode === 'next' ? a.next : a.uncovered);
}

/**
 * Idle slots created ahead for announced jobs: as `announcedSlots`, none with `keep`; with `due`,
 * the uncovered jobs expected to be pending within `basis.bootAheadMs`. PURE.
 */
export function announcedBoots(a: AnnouncedJobs | undefined, mode: AnnouncedMode, basis?: DueBasis): number {
  if (mode === 'keep') return 0;
  if (a && mode === 'due' && a.stages && basis)
    return uncoveredDueWithin(a.stages, basis.durations, basis.bootAheadMs);
  return announcedSlots(a, mode, basis);
}

export interface IdleGoal {
  slots: number;
  /** Why, for logs: the figures the goal came from. */
  detail: {
    bootSeconds: number;
    jobs: number;
    percentileSlots: number;
    usedSlots: number;
    expectedReleases: number;
    /** Recent arrival rate over the measured one (burst detection; 1 = no change detected). */
    trend: number;
    /** With last_use_within: the highest slot a burst reached lately (it bounds usedSlots). */
    lastUsedSlot?: number;
  };
}

/** Index of the first value ≥ k in an ascending list. */
function firstAtLeast(sorted: readonly number[], k: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] ?? 0) >= k) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Times slot k was needed: jobs whose position is exactly k (one per burst reaching k). */
function uses(sorted: readonly number[], k: number): number {
  return firstAtLeast(sorted, k + 1) - firstAtLeast(sorted, k);
}

/**
 * Burst detection: the recent arrival rate over the measured one, when the recent jobs exceed what
 * the measured rate expects by more than one large burst (`burstSlots`, the percentile burst: a
 * single pipeline explains less); else 1. At most 4. Only upwards: a quiet spell shrinks the pool
 * through the history and the hysteresis, as a refill takes a whole boot. PURE.
 */
export function rateTrend(f: Forecast, burstSlots: number): number {
  if (f.trendMs <= 0 || f.spanMs <= 0) return 1;
  const expected = (f.jobs * f.trendMs) / f.spanMs;
  if (f.recentJobs - expected <= Math.max(1, burstSlots)) return 1;
  return Math.min(4, f.recentJobs / Math.max(1, expected));
}

/** The idle slots the forecast asks for with `inUse` slots busy. PURE. */
export function predictedIdle(f: Forecast, s: PredictiveSettings, inUse: number): IdleGoal {
  const percentileSlots = quantile(f.bursts, s.waitQuantile);
  const trend = rateTrend(f, percentileSlots);
  let usedSlots = 0;
  if (f.spanMs > 0)
    while (
      usedSlots < percentileSlots &&
      (uses(f.bursts, usedSlots + 1) * trend * s.useWithinMs) / f.spanMs >= 1
    )
      usedSlots++;
  if (s.lastUseWithinMs > 0) usedSlots = Math.min(usedSlots, f.recentLargestBurst);
  const expectedReleases = f.meanJobMs > 0 ? Math.floor(inUse * Math.min(1, f.bootMs / f.meanJobMs)) : 0;
  let slots = Math.max(0, usedSlots - expectedReleases);
  if (s.maxIdle > 0) slots = Math.min(slots, s.maxIdle);
  return {
    slots,
    detail: {
      bootSeconds: Math.round(f.bootMs / 1000),
      jobs: f.jobs,
      percentileSlots,
      usedSlots,
      expectedReleases,
      trend: Math.round(trend * 100) / 100,
      ...(s.lastUseWithinMs > 0 ? { lastUsedSlot: f.recentLargestBurst } : {}),
    },
  };
}

/** Paid time of a machine not used yet at `nowMs` (billing minimum, then whole increments). PURE. */
export function unusedPaidMs(createdAtMs: number, nowMs: number, s: PredictiveSettings): number {
  const age = Math.max(0, nowMs - createdAtMs);
  const increment = Math.max(1, s.billingIncrementMs);
  const paid = Math.max(s.billingMinimumMs, Math.ceil(age / increment) * increment);
  return paid - age;
}

export interface Removal {
  key: string;
  reason: 'above_predicted_demand' | 'surplus_booting';
}

/**
 * Idle machines to remove: beyond `keepSlots` free slots, idle past `idleTimeMs`, and (while
 * `demandLikely`) with their paid time used up; those with the least paid time left go first. PURE.
 */
export function predictiveRemovals(
  candidates: readonly IdleCandidate[],
  free: number,
  keepSlots: number,
  idleTimeMs: number,
  nowMs: number,
  demandLikely: boolean,
  s: PredictiveSettings,
): Removal[] {
  const out: Removal[] = [];
  const idle = candidates
    .filter((c) => c.busy === 0 && !c.usedUp && nowMs - c.idleSinceMs >= idleTimeMs)
    .map((c) => ({ c, unpaid: unusedPaidMs(c.createdAtMs, nowMs, s) }))
    .filter(({ unpaid }) => !demandLikely || unpaid <= 0)
    .sort((a, b) => a.unpaid - b.unpaid || a.c.createdAtMs - b.c.createdAtMs);
  let left = free;
  for (const { c } of idle) {
    if (left - c.free < keepSlots) continue;
    out.push({ key: c.key, reason: 'above_predicted_demand' });
    left -= c.free;
  }
  return out;
}

/** A machine still booting, as scale-in sees it. */
export interface BootingCandidate {
  key: string;
  createdAtMs: number;
}

/**
 * Machines still booting that no waiting job and no kept slot needs any more (running jobs freed
 * the slots they were created for): the youngest first, as they have the most boot time left to
 * pay for. `supply` = free slots + slots of the booting machines; `need` = waiting jobs + kept
 * slots. PURE.
 */
export function surplusBooting(
  booting: readonly BootingCandidate[],
  supply: number,
  need: number,
  perMachine: number,
): Removal[] {
  const out: Removal[] = [];
  if (perMachine <= 0) return out;
  let left = supply;
  for (const b of [...booting].sort((x, y) => y.createdAtMs - x.createdAtMs)) {
    if (left - perMachine < need) break;
    out.push({ key: b.key, reason: 'surplus_booting' });
    left -= perMachine;
  }
  return out;
}

/** Remembers recent goals so the pool shrinks only to the highest goal of the last delay. */
export interface Hysteresis {
  record(nowMs: number, slots: number): void;
  keep(nowMs: number): number;
}

export function createHysteresis(delayMs: number): Hysteresis {
  let goals: { at: number; slots: number }[] = [];
  return {
    record(nowMs, slots) {
      goals = goals.filter((g) => g.at >= nowMs - delayMs && g.slots > slots);
      goals.push({ at: nowMs, slots });
    },
    keep(nowMs) {
      return goals.filter((g) => g.at >= nowMs - delayMs).reduce((m, g) => Math.max(m, g.slots), 0);
    },
  };
}

/** The settings of `[runners.autoscaler.predictive]`, in ms and shares. */
export function predictiveSettingsOf(c: PredictiveConfig): {
  demand: DemandSettings;
  policy: PredictiveSettings;
} {
  return {
    demand: {
      historyMs: c.history * 1000,
      bucketMs: c.time_of_day_bucket * 1000,
      days: c.history_days,
      initialBootMs: c.initial_boot_time * 1000,
      bootQuantile: c.boot_time_percentile / 100,
      trendMs: c.trend_window * 1000,
      lastUseWithinMs: c.last_use_within * 1000,
    },
    policy: {
      waitQuantile: c.wait_percentile / 100,
      useWithinMs: c.use_within * 1000,
      scaleInDelayMs: c.scale_in_delay * 1000,
      billingMinimumMs: c.billing_minimum * 1000,
      billingIncrementMs: c.billing_increment * 1000,
      maxIdle: c.max_idle,
      bootHedge: c.boot_hedge,
      cancelSurplusBoots: c.cancel_surplus_boots,
      cancelSurplusBootsAtOnce: c.cancel_surplus_boots_at_once,
      bootHedgeOver: c.boot_hedge_over,
      removeSurplusAtFloor: c.remove_surplus_at_floor,
      lastUseWithinMs: c.last_use_within * 1000,
      announcedJobs: c.announced_jobs,
      dueLeadBoots: c.announced_due_lead ?? DUE_LEAD_BOOTS,
      dueKeepBoots: c.announced_due_keep ?? DUE_KEEP_BOOTS,
      reserveCovered: c.announced_reserve,
    },
  };
}

/** Measured demand, the goal it gives and its hysteresis: what the taskscaler holds. */
export interface Planner {
  readonly demand: DemandModel;
  readonly settings: PredictiveSettings;
  /** The idle goal now (recorded for the hysteresis). */
  goal(nowMs: number, inUse: number): IdleGoal;
  /** The free slots scale-in must leave: the highest goal of the last scale_in_delay. */
  keep(nowMs: number): number;
  /** Whether jobs arrived lately (machines with unused paid time are then kept). */
  demandLikely(): boolean;
  /** One boot time as the last goal measured it, in ms. */
  bootMs(): number;
  /** What announced jobs' due times are estimated from (`announced_jobs = "due"`). */
  dueBasis(): DueBasis;
}

export function createPlanner(c: PredictiveConfig): Planner {
  const { demand: ds, policy } = predictiveSettingsOf(c);
  const demand = createDemandModel(ds);
  const hysteresis = createHysteresis(policy.scaleInDelayMs);
  let likely = false;
  let bootMs = ds.initialBootMs;
  return {
    demand,
    settings: policy,
    goal(nowMs, inUse) {
      const f = demand.forecast(nowMs);
      likely = f.jobs > 0;
      bootMs = f.bootMs;
      const g = predictedIdle(f, policy, inUse);
      hysteresis.record(nowMs, g.slots);
      return g;
    },
    keep: (nowMs) => hysteresis.keep(nowMs),
    demandLikely: () => likely,
    bootMs: () => bootMs,
    dueBasis: () => ({
      durations: demand.durations(),
      bootAheadMs: bootMs * policy.dueLeadBoots,
      keepMs: bootMs * policy.dueKeepBoots,
    }),
  };
}
