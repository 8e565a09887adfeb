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
 *
 * The concerns live in `taskscaler/`, as functions of one shared state (`core.ts`): removals
 * (`removal.ts`), job slots (`slots.ts`), the provider's view and deadlines (`watch.ts`) and the
 * fleet's size (`scaling.ts`). This file wires them into the `Taskscaler`.
 */
import { fromRecord, publishFleet, type Machine } from './machines.js';
import type { DemandModel } from './demand.js';
import type { Lease } from './lease.js';
import { wakeableDelay } from './throttle.js';
import type { FleetState, MachineRecord } from './state-store.js';
import { createCore, type ScalerCore, type TaskscalerOptions } from './taskscaler/core.js';
import { remove } from './taskscaler/removal.js';
import { scaleDown, scaleUp } from './taskscaler/scaling.js';
import { acquire, dispatch } from './taskscaler/slots.js';
import { expire, refresh } from './taskscaler/watch.js';

export type { Timing, TaskscalerOptions } from './taskscaler/core.js';
export type { Lease } from './lease.js';

export interface Taskscaler {
  /** Loads the state file's machines (adopted, checked again before use). */
  adopt(state: FleetState): void;
  /** `announced`: the coordinator announced the job before it was pending (see `announced_jobs`). */
  acquire(
    job: string,
    options?: { signal?: AbortSignal; front?: boolean; announced?: boolean },
  ): Promise<Lease>;
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
  /** The predictive pool's measurements; null without `[runners.autoscaler.predictive]`. */
  demand(): DemandModel | null;
}

/** One reconcile pass. */
async function tick(c: ScalerCore): Promise<void> {
  if (c.now() >= c.nextUpdateMs) await refresh(c);
  expire(c);
  dispatch(c);
  await scaleUp(c);
  scaleDown(c);
  publishFleet(c.o.metrics, c.o.runner, c.machines.values(), c.waiters.length, c.o.limits.maxInstances);
  if (c.dirty) await c.persist();
}

/** Loads a state file's machines: zero-id entries kept for the cleaner, busy ones removed. */
function adopt(c: ScalerCore, state: FleetState): void {
  for (const r of state.machines) {
    if (!r.key || r.key.endsWith('/')) {
      c.zeroIds.push(r);
      continue;
    }
    const m = fromRecord(r, c.now());
    c.machines.set(m.key, m);
    if (r.busy > 0) remove(c, m, 'it had jobs when the manager stopped', 'adopted_busy');
    else c.log.info({ machine: m.key, useCount: m.useCount }, 'adopting machine');
  }
  c.dirty = true;
}

/** Ticks every second, or sooner when woken, until `signal` aborts. */
async function run(c: ScalerCore, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      await tick(c);
    } catch (err) {
      c.log.error({ err }, 'autoscaler pass failed');
    }
    const pause = wakeableDelay(1000, signal);
    c.wake = pause.wake;
    await pause.done;
    c.wake = null;
  }
}

async function removeAll(c: ScalerCore, attempts: number): Promise<void> {
  for (let i = 0; i < attempts && c.machines.size > 0; i++) {
    for (const m of c.machines.values())
      if (m.busy === 0 || m.lost) remove(c, m, 'manager shutdown', 'shutdown');
    await c.o.clock.sleep(i === 0 ? 50 : 1000);
    expire(c);
  }
  await c.persist();
}

export function createTaskscaler(o: TaskscalerOptions): Taskscaler {
  const c = createCore(o);
  return {
    adopt: (state) => adopt(c, state),
    acquire: (job, options = {}) => acquire(c, job, options),
    tick: () => tick(c),
    run: (signal) => run(c, signal),
    removeAll: (attempts) => removeAll(c, attempts),
    machines: () => [...c.machines.values()],
    zeroIdRecords: () => [...c.zeroIds],
    forgetZeroIds(keep) {
      c.zeroIds = c.zeroIds.filter(keep);
      c.dirty = true;
    },
    waiting: () => c.waiters.filter((w) => !w.done).length,
    state: c.fleetState,
    demand: () => c.planner?.demand ?? null,
  };
}
