/**
 * The taskscaler: job slots on machines and the reconcile loop that keeps the fleet sized.
 * Clock-driven: `tick()` does one pass (list the provider when due, ready checks, timeouts, hand
 * out slots, create, remove, publish metrics and state); `run()` ticks every second or sooner when
 * woken. A benchmark can call `tick()` with a simulated clock and provider.
 *
 * - `acquire(job)` queues the job (FIFO; `front` for a retry that keeps its place) and resolves a
 *   `Lease` on a ready machine; machines are created for waiting jobs (never preemptive gating).
 * - A slot is handed out only after the machine answers its provider heartbeat (it may have died
 *   while idle); one that does not is removed and the job takes the next machine, keeping its place.
 * - A lease released `broken` removes its machine; a machine at max_use_count goes when idle.
 * - Machines that the provider stops reporting, or reports timed out, are lost: their leases see
 *   `lost` and the machine is removed. Removals are retried every `deletionRetryMs`, never forgotten.
 */
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import {
  fleetStateOf,
  fromRecord,
  idleCandidates,
  machineFree,
  newMachine,
  publishFleet,
  snapshot,
  usedUp,
  type Machine,
} from './machines.js';
import { machineLease, type Lease, type LeaseHost } from './lease.js';
import type { AutoscalerMetrics } from './metrics.js';
import {
  activePolicy,
  idleTarget,
  instancesToRemove,
  machinesFor,
  slotsPerNewInstance,
  type Limits,
} from './policy.js';
import type { PolicyConfig, PredictiveConfig } from './autoscaler-config.js';
import { createPlanner, predictiveRemovals, surplusBooting } from './predictive.js';
import { PartialUpdateError, splitKey } from './provider-group.js';
import { wakeableDelay } from './throttle.js';
import type { ConnectInfo, InstanceGroup, InstanceState } from './providers/provider.js';
import type { FleetState, MachineRecord } from './state-store.js';

export interface Timing {
  readyTimeoutMs: number;
  acquireTimeoutMs: number;
  updateIntervalMs: number;
  updateExpectingMs: number;
  deletionRetryMs: number;
}

export interface TaskscalerOptions {
  runner: string;
  provider: InstanceGroup;
  limits: Limits;
  policies: () => readonly PolicyConfig[];
  timing: Timing;
  /** Throws when a new machine is not ready for jobs. */
  readyCheck: (info: ConnectInfo) => Promise<void>;
  clock: Clock;
  logger: Logger;
  metrics: AutoscalerMetrics;
  /** `[runners.autoscaler.predictive]`; absent or not enabled = gitlab-runner's idle policy only. */
  predictive?: PredictiveConfig;
  /** Persists the fleet (called after changes); absent = not persisted. */
  persist?: (state: FleetState) => Promise<void>;
}

export type { Lease } from './lease.js';

interface Waiter {
  job: string;
  deadlineMs: number;
  resolve(lease: Lease): void;
  reject(err: Error): void;
  done: boolean;
}

export interface Taskscaler {
  /** Loads the state file's machines (adopted, checked again before use). */
  adopt(state: FleetState): void;
  acquire(job: string, options?: { signal?: AbortSignal; front?: boolean }): Promise<Lease>;
  tick(): Promise<void>;
  run(signal: AbortSignal): Promise<void>;
  /** Removes every machine (waiting until they are gone or `attempts` passes). */
  removeAll(attempts: number): Promise<void>;
  machines(): readonly Readonly<Machine>[];
  /** State entries without a provider id (unanswered creations), for the zero-id cleaner. */
  zeroIdRecords(): MachineRecord[];
  forgetZeroIds(keep: (r: MachineRecord) => boolean): void;
  waiting(): number;
  state(): FleetState;
}

export function createTaskscaler(o: TaskscalerOptions): Taskscaler {
  const { clock, limits, timing, metrics, runner } = o;
  const log = o.logger.child({ runner });
  const machines = new Map<string, Machine>();
  const waiters: Waiter[] = [];
  let zeroIds: MachineRecord[] = [];
  /** Why the last new machine was removed before it became ready (for a job that times out waiting). */
  let lastReadyFailure: string | null = null;
  let pending = 0;
  /** When the last job asked for a slot (booting machines are not cancelled within a boot of it). */
  let lastArrivalMs = -Infinity;
  let nextUpdateMs = 0;
  let dirty = false;
  let wake: (() => void) | null = null;
  const now = (): number => clock.now().getTime();
  const planner = o.predictive?.enabled ? createPlanner(o.predictive) : null;
  const kick = (): void => wake?.();

  function fleetState(): FleetState {
    return fleetStateOf(runner, machines.values(), zeroIds, pending, clock.now().toISOString());
  }

  async function persist(): Promise<void> {
    dirty = false;
    await o
      .persist?.(fleetState())
      .catch((err: unknown) => log.error({ err }, 'writing the machine state failed'));
  }

  /** Removes `m`; `code` is the reason label of flotilla_autoscaler_decisions_total. */
  function remove(m: Machine, reason: string, code = 'retry'): void {
    if (m.state !== 'removing') {
      log.info({ machine: m.key, reason, code, useCount: m.useCount }, 'removing machine');
      metrics.decisions.inc({ runner, action: 'remove', reason: code });
      m.state = 'removing';
      m.lost = true;
      m.nextRemovalMs = 0;
      dirty = true;
    }
    if (m.removing || now() < m.nextRemovalMs) return;
    m.removing = true;
    const started = clock.monotonic();
    const provider = splitKey(m.key).provider;
    o.provider.decrease([m.key]).then(
      (done) => {
        m.removing = false;
        if (done.includes(m.key)) {
          const seconds = (clock.monotonic() - started) / 1000;
          metrics.removalDuration.observe({ runner, provider }, seconds);
          log.info({ machine: m.key, seconds }, 'machine removed');
          metrics.operations.inc({ runner, operation: 'remove', result: 'success' });
          machines.delete(m.key);
          dirty = true;
          kick();
        } else retryRemoval(m, new Error('the provider did not remove it'));
      },
      (err: unknown) => {
        m.removing = false;
        retryRemoval(m, err);
      },
    );
  }

  function retryRemoval(m: Machine, err: unknown): void {
    m.removeAttempts++;
    m.nextRemovalMs = now() + timing.deletionRetryMs;
    metrics.operations.inc({ runner, operation: 'remove', result: 'failure' });
    log.warn({ machine: m.key, err, attempts: m.removeAttempts }, 'machine removal failed; will retry');
  }

  function readyCheck(m: Machine): void {
    m.checking = true;
    o.provider
      .connectInfo(m.key)
      .then((info) => o.readyCheck(info))
      .then(
        () => {
          m.checking = false;
          if (m.state !== 'creating') return;
          m.state = 'ready';
          m.readyAtMs = now();
          lastReadyFailure = null;
          m.idleSinceMs = now();
          dirty = true;
          metrics.creationDuration.observe(
            { runner, provider: splitKey(m.key).provider },
            (now() - m.createdAtMs) / 1000,
          );
          log.info({ machine: m.key, seconds: (now() - m.createdAtMs) / 1000 }, 'machine ready');
          planner?.demand.boot(splitKey(m.key).provider, now() - m.createdAtMs);
          dispatch();
          kick();
        },
        (err: unknown) => {
          m.checking = false;
          metrics.operations.inc({ runner, operation: 'ready', result: 'failure' });
          lastReadyFailure = `machine ${m.key} failed its ready check: ${errorMessage(err)}`;
          log.warn({ machine: m.key, err }, 'machine failed its ready check');
          remove(m, 'ready check failed', 'ready_failed');
        },
      );
  }

  async function refresh(): Promise<void> {
    const seen = new Map<string, InstanceState>();
    let unlisted: string[] = [];
    try {
      await o.provider.update((r) => seen.set(r.id, r.state));
    } catch (err) {
      if (!(err instanceof PartialUpdateError)) {
        log.warn({ err }, 'listing machines failed');
        nextUpdateMs = now() + timing.updateExpectingMs;
        return;
      }
      unlisted = err.providers;
    }
    for (const m of machines.values()) {
      if (m.state === 'removing' || unlisted.includes(splitKey(m.key).provider)) continue;
      const st = seen.get(m.key);
      const young = m.state === 'creating' && now() - m.createdAtMs < timing.readyTimeoutMs;
      if ((st === undefined && !young) || st === 'deleted') {
        log.warn({ machine: m.key, busy: m.busy }, 'machine unexpectedly removed');
        metrics.operations.inc({ runner, operation: 'lost', result: 'success' });
        m.lost = true;
        machines.delete(m.key);
        dirty = true;
      } else if (st === 'timeout' || st === 'deleting') {
        metrics.operations.inc({ runner, operation: 'lost', result: 'success' });
        remove(m, `provider reports it ${st}`, 'lost');
      } else if (st === 'running' && m.state === 'creating' && !m.checking) readyCheck(m);
    }
    const expecting = waiters.length > 0 || [...machines.values()].some((m) => m.state !== 'ready');
    nextUpdateMs = now() + (expecting ? timing.updateExpectingMs : timing.updateIntervalMs);
  }

  const leaseHost: LeaseHost = {
    current: (m) => machines.get(m.key) === m,
    nowMs: now,
    released(m, broken, heldMs) {
      dirty = true;
      if (!broken) planner?.demand.jobDone(heldMs);
      if (machines.get(m.key) === m) {
        if (broken) {
          metrics.operations.inc({ runner, operation: 'lost', result: 'success' });
          remove(m, 'its job found it broken', 'broken');
        } else if (m.busy === 0 && usedUp(m, limits)) remove(m, 'max_use_count reached', 'max_use_count');
      }
      dispatch();
      kick();
    },
  };

  /** The provider's heartbeat, asked twice before a machine counts as dead (a busy host answers late). */
  async function heartbeat(key: string): Promise<void> {
    await o.provider.heartbeat?.(key).catch(() => o.provider.heartbeat?.(key));
  }

  function grant(m: Machine, w: Waiter): void {
    m.busy++;
    m.useCount++;
    dirty = true;
    const l = machineLease(m, leaseHost, w.job);
    // A machine may have died while idle: it must answer its heartbeat before it gets the job.
    Promise.all([o.provider.connectInfo(m.key), heartbeat(m.key)]).then(
      ([connect]) => {
        Object.defineProperty(l, 'connect', { value: connect });
        if (w.done) l.release();
        else {
          w.done = true;
          w.resolve(l);
        }
      },
      (err: unknown) => {
        log.warn(
          { machine: m.key, err },
          'machine not usable (no connection info or heartbeat); trying another',
        );
        if (!w.done) waiters.unshift(w);
        l.release({ broken: true });
        kick();
      },
    );
  }

  function dispatch(): void {
    while (waiters.length > 0) {
      const ready = [...machines.values()].filter((m) => machineFree(m, limits) > 0);
      if (ready.length === 0) return;
      ready.sort((a, b) => b.busy - a.busy || b.createdAtMs - a.createdAtMs);
      const w = waiters.shift() as Waiter;
      if (!w.done) grant(ready[0] as Machine, w);
    }
  }

  function expire(): void {
    for (const w of waiters.filter((x) => now() >= x.deadlineMs)) {
      w.done = true;
      w.reject(
        new Error(
          `no machine slot within ${timing.acquireTimeoutMs / 1000}s (instance_acquire_timeout)` +
            (lastReadyFailure ? `; the last new machine was removed: ${lastReadyFailure}` : ''),
        ),
      );
    }
    for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i]?.done) waiters.splice(i, 1);
    for (const m of machines.values()) {
      if (m.state === 'creating' && now() - m.createdAtMs > timing.readyTimeoutMs) {
        metrics.operations.inc({ runner, operation: 'ready', result: 'failure' });
        lastReadyFailure = `machine ${m.key} was not ready within ${timing.readyTimeoutMs / 1000}s (instance_ready_timeout)`;
        log.warn({ machine: m.key }, 'machine not ready within instance_ready_timeout');
        remove(m, 'not ready within instance_ready_timeout', 'ready_failed');
      }
      if (m.state === 'removing') remove(m, 'retry');
    }
  }

  /** The idle slots wanted now and why: gitlab-runner's policy, or the forecast when higher. */
  function idleGoal(inUse: number): { slots: number; reason: string; detail?: object } {
    const policy = activePolicy(o.policies(), clock.now());
    const floor = idleTarget(policy, inUse);
    const g = planner?.goal(now(), inUse);
    if (g && g.slots > floor) return { slots: g.slots, reason: 'predicted_demand', detail: g.detail };
    return { slots: floor, reason: 'idle_count' };
  }

  async function scaleUp(): Promise<void> {
    const s = snapshot(machines.values(), limits, waiters.length, 0);
    const goal = idleGoal(s.inUse);
    const n = machinesFor(s, goal.slots, limits, planner?.settings.bootHedge ?? 0);
    if (n <= 0) return;
    const forJobs = Math.min(n, machinesFor(s, 0, limits));
    const hedged = Math.min(n, machinesFor(s, 0, limits, planner?.settings.bootHedge ?? 0)) - forJobs;
    pending = n;
    await persist();
    const t = now();
    let keys: string[] = [];
    try {
      keys = await o.provider.increase(n);
    } catch (err) {
      log.warn({ err }, 'machine creation failed');
    }
    pending = 0;
    for (const key of keys) machines.set(key, newMachine(key, t));
    metrics.operations.inc({ runner, operation: 'create', result: 'success' }, keys.length);
    if (keys.length < n)
      metrics.operations.inc({ runner, operation: 'create', result: 'failure' }, n - keys.length);
    if (keys.length > 0) {
      const jobs = Math.min(keys.length, forJobs);
      const hedge = Math.min(keys.length - jobs, hedged);
      const byReason: [string, number][] = [
        ['waiting_jobs', jobs],
        ['boot_hedge', hedge],
        [goal.reason, keys.length - jobs - hedge],
      ];
      for (const [reason, count] of byReason)
        if (count > 0) metrics.decisions.inc({ runner, action: 'create', reason }, count);
      log.info(
        {
          machines: keys,
          wanted: n,
          waiting: s.waiting,
          idleGoal: goal.slots,
          reasons: Object.fromEntries(byReason.filter(([, c]) => c > 0)),
          ...(goal.detail ? { forecast: goal.detail } : {}),
        },
        'creating machines',
      );
      nextUpdateMs = Math.min(nextUpdateMs, now() + timing.updateExpectingMs);
    }
    dirty = true;
  }

  function scaleDown(): void {
    const policy = activePolicy(o.policies(), clock.now());
    const s = snapshot(machines.values(), limits, waiters.length, 0);
    const candidates = idleCandidates(machines.values(), limits);
    if (!planner) {
      for (const key of instancesToRemove(candidates, s, policy, now())) {
        const m = machines.get(key);
        if (!m) continue;
        if (usedUp(m, limits)) remove(m, 'max_use_count reached', 'max_use_count');
        else remove(m, 'idle past idle_time', 'idle_time');
      }
      return;
    }
    let free = s.free;
    for (const c of candidates.filter((x) => x.busy === 0 && x.usedUp)) {
      const m = machines.get(c.key);
      if (m) remove(m, 'max_use_count reached', 'max_use_count');
      free -= c.free;
    }
    const keep = Math.max(idleTarget(policy, s.inUse), planner.keep(now())) + s.waiting;
    const quiet = s.waiting === 0 && now() - lastArrivalMs >= planner.bootMs();
    if (planner.settings.cancelSurplusBoots && quiet) cancelSurplus(free, keep);
    const removals = predictiveRemovals(
      candidates.filter((c) => !c.usedUp),
      free,
      keep,
      policy.idleTimeMs,
      now(),
      planner.demandLikely(),
      planner.settings,
    );
    for (const r of removals) {
      const m = machines.get(r.key);
      if (m) remove(m, `idle above the predicted demand (keeping ${keep} free slots)`, r.reason);
    }
  }

  /**
   * Once no job waits and none arrived for one boot time (the burst is over), machines still
   * booting beyond the kept slots go: running jobs freed the slots they were created for, or a
   * boot hedge has served its jobs.
   */
  function cancelSurplus(free: number, keep: number): void {
    const booting = [...machines.values()].filter((m) => m.state === 'creating');
    const per = slotsPerNewInstance(limits);
    for (const r of surplusBooting(booting, free + booting.length * per, keep, per)) {
      const m = machines.get(r.key);
      if (m) remove(m, `booting above the kept ${keep} free slots`, r.reason);
    }
  }

  async function tick(): Promise<void> {
    if (now() >= nextUpdateMs) await refresh();
    expire();
    dispatch();
    await scaleUp();
    scaleDown();
    publishFleet(metrics, runner, machines.values(), waiters.length, limits.maxInstances);
    if (dirty) await persist();
  }

  return {
    adopt(state) {
      for (const r of state.machines) {
        if (!r.key || r.key.endsWith('/')) {
          zeroIds.push(r);
          continue;
        }
        const m = fromRecord(r, now());
        machines.set(m.key, m);
        if (r.busy > 0) remove(m, 'it had jobs when the manager stopped', 'adopted_busy');
        else log.info({ machine: m.key, useCount: m.useCount }, 'adopting machine');
      }
      dirty = true;
    },
    acquire(job, options = {}) {
      return new Promise<Lease>((resolve, reject) => {
        const w: Waiter = { job, deadlineMs: now() + timing.acquireTimeoutMs, resolve, reject, done: false };
        options.signal?.addEventListener('abort', () => {
          if (w.done) return;
          w.done = true;
          reject(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));
        });
        if (options.front) waiters.unshift(w);
        else {
          waiters.push(w);
          planner?.demand.arrival(now());
          lastArrivalMs = now();
        }
        dispatch();
        nextUpdateMs = Math.min(nextUpdateMs, now() + timing.updateExpectingMs);
        kick();
      });
    },
    tick,
    async run(signal) {
      while (!signal.aborted) {
        try {
          await tick();
        } catch (err) {
          log.error({ err }, 'autoscaler pass failed');
        }
        const pause = wakeableDelay(1000, signal);
        wake = pause.wake;
        await pause.done;
        wake = null;
      }
    },
    async removeAll(attempts) {
      for (let i = 0; i < attempts && machines.size > 0; i++) {
        for (const m of machines.values())
          if (m.busy === 0 || m.lost) remove(m, 'manager shutdown', 'shutdown');
        await clock.sleep(i === 0 ? 50 : 1000);
        expire();
      }
      await persist();
    },
    machines: () => [...machines.values()],
    zeroIdRecords: () => [...zeroIds],
    forgetZeroIds(keep) {
      zeroIds = zeroIds.filter(keep);
      dirty = true;
    },
    waiting: () => waiters.filter((w) => !w.done).length,
    state: fleetState,
  };
}
