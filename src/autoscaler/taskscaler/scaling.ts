/**
 * Sizing the fleet: machines created for waiting jobs and the idle goal (gitlab-runner's policy, or
 * the predictive forecast when higher), and removed when idle past idle_time, used up, or above the
 * predicted demand.
 */
import { idleCandidates, snapshot, usedUp, type Machine } from '../machines.js';
import { newMachine } from '../machines.js';
import {
  activePolicy,
  idleTarget,
  type ActivePolicy,
  instancesToRemove,
  machinesFor,
  slotsPerNewInstance,
} from '../policy.js';
import {
  announcedBoots,
  announcedSlots,
  predictiveRemovals,
  surplusBooting,
  unusedPaidMs,
  type Planner,
} from '../predictive.js';
import { aged } from '../../api/announced-jobs.js';
import { coveredSlots } from '../due.js';
import type { ScalerCore } from './core.js';
import { remove } from './removal.js';

/** Free slots kept for the jobs the coordinator announced (0 without the setting or the signal). */
function announced(c: ScalerCore): number {
  const p = c.planner;
  return p ? announcedSlots(aged(c.o.announced?.(), c.now()), p.settings.announcedJobs, p.dueBasis()) : 0;
}

/** Idle slots created ahead for the jobs the coordinator announced. */
function announcedAhead(c: ScalerCore): number {
  const p = c.planner;
  return p ? announcedBoots(aged(c.o.announced?.(), c.now()), p.settings.announcedJobs, p.dueBasis()) : 0;
}

/** In-use slots whose machines announced next stages will take (`announced_reserve`). */
function reserved(c: ScalerCore): number {
  const p = c.planner;
  const a = c.o.announced?.();
  if (!p || p.settings.announcedJobs === 'off' || !p.settings.reserveCovered || !a) return 0;
  return coveredSlots(a);
}

/**
 * The idle slots wanted now and why: gitlab-runner's policy, or the forecast when higher, plus the
 * slots held for announced jobs.
 */
function idleGoal(c: ScalerCore, inUse: number): { slots: number; reason: string; detail?: object } {
  const policy = activePolicy(c.o.policies(), c.o.clock.now());
  const floor = idleTarget(policy, inUse);
  const g = c.planner?.goal(c.now(), Math.max(0, inUse - reserved(c)));
  const extra = announcedAhead(c);
  if (g && g.slots > floor)
    return {
      slots: g.slots + extra,
      reason: 'predicted_demand',
      detail: { ...g.detail, ...(extra > 0 ? { announced: extra } : {}) },
    };
  if (extra > 0) return { slots: floor + extra, reason: 'announced_jobs', detail: { announced: extra } };
  return { slots: floor, reason: 'idle_count' };
}

/** Counts and logs the machines created, by reason (waiting jobs, boot hedge, idle goal). */
function created(
  c: ScalerCore,
  keys: string[],
  plan: { n: number; forJobs: number; hedged: number; waiting: number },
  goal: ReturnType<typeof idleGoal>,
): void {
  const { metrics, runner } = c.o;
  metrics.operations.inc({ runner, operation: 'create', result: 'success' }, keys.length);
  if (keys.length < plan.n)
    metrics.operations.inc({ runner, operation: 'create', result: 'failure' }, plan.n - keys.length);
  if (keys.length === 0) return;
  const jobs = Math.min(keys.length, plan.forJobs);
  const hedge = Math.min(keys.length - jobs, plan.hedged);
  const byReason: [string, number][] = [
    ['waiting_jobs', jobs],
    ['boot_hedge', hedge],
    [goal.reason, keys.length - jobs - hedge],
  ];
  for (const [reason, count] of byReason)
    if (count > 0) metrics.decisions.inc({ runner, action: 'create', reason }, count);
  c.log.info(
    {
      machines: keys,
      wanted: plan.n,
      waiting: plan.waiting,
      idleGoal: goal.slots,
      reasons: Object.fromEntries(byReason.filter(([, n]) => n > 0)),
      ...(goal.detail ? { forecast: goal.detail } : {}),
    },
    'creating machines',
  );
  c.nextUpdateMs = Math.min(c.nextUpdateMs, c.now() + c.o.timing.updateExpectingMs);
}

export async function scaleUp(c: ScalerCore): Promise<void> {
  const { limits } = c.o;
  const hedgeBoots = c.planner?.settings.bootHedge ?? 0;
  const over = c.planner?.settings.bootHedgeOver ?? 'uncovered';
  const s = snapshot(c.machines.values(), limits, c.waiters.length, 0);
  const goal = idleGoal(c, s.inUse);
  const n = machinesFor(s, goal.slots, limits, hedgeBoots, over);
  if (n <= 0) return;
  const forJobs = Math.min(n, machinesFor(s, 0, limits));
  const hedged = Math.min(n, machinesFor(s, 0, limits, hedgeBoots, over)) - forJobs;
  c.pending = n;
  await c.persist();
  const t = c.now();
  let keys: string[] = [];
  try {
    keys = await c.o.provider.increase(n);
  } catch (err) {
    c.log.warn({ err }, 'machine creation failed');
  }
  c.pending = 0;
  for (const key of keys) c.machines.set(key, newMachine(key, t));
  created(c, keys, { n, forJobs, hedged, waiting: s.waiting }, goal);
  c.dirty = true;
}

function removeIdle(c: ScalerCore, keys: Iterable<string>): void {
  for (const key of keys) {
    const m = c.machines.get(key);
    if (!m) continue;
    if (usedUp(m, c.o.limits)) remove(c, m, 'max_use_count reached', 'max_use_count');
    else remove(c, m, 'idle past idle_time', 'idle_time');
  }
}

export function scaleDown(c: ScalerCore): void {
  const { limits } = c.o;
  const policy = activePolicy(c.o.policies(), c.o.clock.now());
  const s = snapshot(c.machines.values(), limits, c.waiters.length, 0);
  const candidates = idleCandidates(c.machines.values(), limits);
  const planner = c.planner;
  if (!planner) return removeIdle(c, instancesToRemove(candidates, s, policy, c.now()));
  let free = s.free;
  for (const x of candidates.filter((y) => y.busy === 0 && y.usedUp)) {
    const m = c.machines.get(x.key);
    if (m) remove(c, m, 'max_use_count reached', 'max_use_count');
    free -= x.free;
  }
  const keep = Math.max(idleTarget(policy, s.inUse), planner.keep(c.now())) + announced(c) + s.waiting;
  const quiet = s.waiting === 0 && c.now() - c.lastArrivalMs >= planner.bootMs();
  if (planner.settings.cancelSurplusBootsAtOnce && s.waiting === 0) cancelSurplus(c, free, keep, true);
  else if (planner.settings.cancelSurplusBoots && quiet) cancelSurplus(c, free, keep, false);
  const removals = predictiveRemovals(
    candidates.filter((x) => !x.usedUp),
    free,
    keep,
    surplusIdleTimeMs(planner, policy, keep - s.waiting, s.inUse),
    c.now(),
    planner.demandLikely(),
    planner.settings,
  );
  for (const r of removals) {
    const m = c.machines.get(r.key);
    if (m) remove(c, m, `idle above the predicted demand (keeping ${keep} free slots)`, r.reason);
  }
}

/**
 * The idle time before an idle machine above the kept slots goes: idle_time, or none with
 * remove_surplus_at_floor while the kept pool is no larger than the idle_count floor (a returning
 * job's machine above the floor at night would only wait out idle_time to go).
 */
function surplusIdleTimeMs(planner: Planner, policy: ActivePolicy, kept: number, inUse: number): number {
  return planner.settings.removeSurplusAtFloor && kept <= idleTarget(policy, inUse) ? 0 : policy.idleTimeMs;
}

/**
 * Once no job waits and none arrived for one boot time (the burst is over), or with
 * cancel_surplus_boots_at_once whenever no job waits, machines still booting beyond the kept
 * slots go: running jobs freed the slots they were created for, or a boot hedge has served its
 * jobs. `paidOnly`: a machine whose paid time left is longer than one boot and the billing minimum
 * is kept (an hourly bill: it would serve that time for nothing).
 */
function cancelSurplus(c: ScalerCore, free: number, keep: number, paidOnly: boolean): void {
  const booting: Machine[] = [...c.machines.values()].filter((m) => m.state === 'creating');
  const per = slotsPerNewInstance(c.o.limits);
  const planner = c.planner;
  const cancellable = planner && paidOnly ? booting.filter((m) => paidLeftIsShort(c, planner, m)) : booting;
  for (const r of surplusBooting(cancellable, free + booting.length * per, keep, per)) {
    const m = c.machines.get(r.key);
    if (m) remove(c, m, `booting above the kept ${keep} free slots`, r.reason);
  }
}

/** Paid time left of a booting machine within one boot or the billing minimum: cancelling wastes none. */
function paidLeftIsShort(c: ScalerCore, planner: Planner, m: Machine): boolean {
  const left = unusedPaidMs(m.createdAtMs, c.now(), planner.settings);
  return left <= Math.max(planner.bootMs(), planner.settings.billingMinimumMs);
}
