/**
 * The capacity policy: how many machines to create and which idle machines to remove, from a
 * snapshot of the fleet. PURE (no clock, no I/O): the taskscaler and the benchmark feed it.
 *
 * - Demand = jobs waiting for a slot + the idle target (idle_count, or clamp(idle_count,
 *   in-use × scale_factor, scale_factor_limit)).
 * - Supply = free slots on ready machines + slots that machines being created will offer; demand
 *   already covered by machines being created never creates more.
 * - A machine's slots are capped by its remaining uses under max_use_count.
 * - Scale-in walks idle machines oldest first and removes those idle past idle_time while the free
 *   slots left still meet the idle target; used-up machines (max_use_count) go at once.
 */
import type { PolicyConfig } from './autoscaler-config.js';
import { cronMatches, parseCron } from './cron.js';

export interface Limits {
  capacityPerInstance: number;
  /** 0 = no limit. */
  maxUseCount: number;
  /** 0 = no limit. */
  maxInstances: number;
}

export interface ActivePolicy {
  idleCount: number;
  idleTimeMs: number;
  scaleFactor: number;
  scaleFactorLimit: number;
}

const DEFAULT_POLICY: ActivePolicy = { idleCount: 0, idleTimeMs: 0, scaleFactor: 0, scaleFactorLimit: 0 };

/** The last policy whose periods match `now`; none matching → no idle capacity. */
export function activePolicy(policies: readonly PolicyConfig[], now: Date): ActivePolicy {
  let active = DEFAULT_POLICY;
  for (const p of policies) {
    if (p.periods.some((period) => cronMatches(parseCron(period), now, p.timezone))) {
      active = {
        idleCount: p.idle_count,
        idleTimeMs: p.idle_time * 1000,
        scaleFactor: p.scale_factor,
        scaleFactorLimit: p.scale_factor_limit,
      };
    }
  }
  return active;
}

/** Idle slots to keep for `inUse` busy slots. */
export function idleTarget(policy: ActivePolicy, inUse: number): number {
  if (policy.scaleFactor <= 0) return policy.idleCount;
  const scaled = Math.ceil(inUse * policy.scaleFactor);
  const capped = policy.scaleFactorLimit > 0 ? Math.min(scaled, policy.scaleFactorLimit) : scaled;
  return Math.max(policy.idleCount, capped);
}

/** Slots a machine can still give: capacity minus busy, capped by remaining uses. */
export function freeSlots(limits: Limits, busy: number, useCount: number): number {
  const byCapacity = limits.capacityPerInstance - busy;
  const byUses = limits.maxUseCount > 0 ? limits.maxUseCount - useCount : Infinity;
  return Math.max(0, Math.min(byCapacity, byUses));
}

/** Slots a new machine will give. */
export function slotsPerNewInstance(limits: Limits): number {
  return freeSlots(limits, 0, 0);
}

export interface FleetSnapshot {
  /** Slots running or preparing a job. */
  inUse: number;
  /** Jobs waiting for a slot. */
  waiting: number;
  /** Free slots on ready machines. */
  free: number;
  /** Machines being created (each will give slotsPerNewInstance). */
  creating: number;
  /** Machines counted against max_instances (all but those being removed... and those too). */
  total: number;
}

/** How many machines to start creating now. */
export function instancesToCreate(s: FleetSnapshot, policy: ActivePolicy, limits: Limits): number {
  return machinesFor(s, idleTarget(policy, s.inUse), limits);
}

/**
 * Machines to create so waiting jobs plus `idleSlots` idle slots are covered; `hedge` adds that
 * share of the jobs no slot covers yet (they take the first machines ready, the rest stay idle),
 * or with `hedgeOver = 'waiting'` of every job no ready slot serves (booting machines too slow
 * for them are hedged as well).
 */
export function machinesFor(
  s: FleetSnapshot,
  idleSlots: number,
  limits: Limits,
  hedge = 0,
  hedgeOver: 'uncovered' | 'waiting' = 'uncovered',
): number {
  const per = slotsPerNewInstance(limits);
  const supply = s.free + s.creating * per;
  const hedged = Math.max(0, s.waiting - (hedgeOver === 'waiting' ? s.free : supply));
  const demand = s.waiting + idleSlots + Math.ceil(hedged * hedge);
  if (demand <= supply || per === 0) return 0;
  const wanted = Math.ceil((demand - supply) / per);
  const room = limits.maxInstances > 0 ? Math.max(0, limits.maxInstances - s.total) : wanted;
  return Math.min(wanted, room);
}

export interface IdleCandidate {
  key: string;
  /** When it became idle (last release, else ready time). */
  idleSinceMs: number;
  createdAtMs: number;
  free: number;
  busy: number;
  usedUp: boolean;
}

/** Machines to remove now: used-up idle ones, then idle past idle_time beyond the idle target. */
export function instancesToRemove(
  candidates: readonly IdleCandidate[],
  s: FleetSnapshot,
  policy: ActivePolicy,
  nowMs: number,
): string[] {
  const out: string[] = [];
  let free = s.free;
  const target = idleTarget(policy, s.inUse) + s.waiting;
  for (const c of candidates) {
    if (c.busy === 0 && c.usedUp) {
      out.push(c.key);
      free -= c.free;
    }
  }
  const idle = candidates
    .filter((c) => c.busy === 0 && !c.usedUp && nowMs - c.idleSinceMs >= policy.idleTimeMs)
    .sort((a, b) => a.createdAtMs - b.createdAtMs);
  for (const c of idle) {
    if (free - c.free < target) continue;
    out.push(c.key);
    free -= c.free;
  }
  return out;
}
