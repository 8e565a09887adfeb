/**
 * Job slots: waiting jobs (FIFO; `front` keeps a retry's place) get a slot on a ready machine, and
 * only after the machine answers its provider heartbeat (it may have died while idle).
 */
import { machineLease, type Lease, type LeaseHost } from '../lease.js';
import { machineFree, usedUp, type Machine } from '../machines.js';
import type { ScalerCore, Waiter } from './core.js';
import { remove } from './removal.js';

/** What a lease tells the taskscaler: a released slot frees the machine, or removes it. */
function leaseHost(c: ScalerCore): LeaseHost {
  const { metrics, runner, limits } = c.o;
  return {
    current: (m) => c.machines.get(m.key) === m,
    nowMs: c.now,
    released(m, broken, heldMs) {
      c.dirty = true;
      if (!broken) c.planner?.demand.jobDone(heldMs);
      if (c.machines.get(m.key) === m) {
        if (broken) {
          metrics.operations.inc({ runner, operation: 'lost', result: 'success' });
          remove(c, m, 'its job found it broken', 'broken');
        } else if (m.busy === 0 && usedUp(m, limits)) remove(c, m, 'max_use_count reached', 'max_use_count');
      }
      dispatch(c);
      c.kick();
    },
  };
}

/** The provider's heartbeat, asked twice before a machine counts as dead (a busy host answers late). */
async function heartbeat(c: ScalerCore, key: string): Promise<void> {
  await c.o.provider.heartbeat?.(key).catch(() => c.o.provider.heartbeat?.(key));
}

function grant(c: ScalerCore, host: LeaseHost, m: Machine, w: Waiter): void {
  m.busy++;
  m.useCount++;
  c.dirty = true;
  const l = machineLease(m, host, w.job);
  // A machine may have died while idle: it must answer its heartbeat before it gets the job.
  Promise.all([c.o.provider.connectInfo(m.key), heartbeat(c, m.key)]).then(
    ([connect]) => {
      Object.defineProperty(l, 'connect', { value: connect });
      if (w.done) l.release();
      else {
        w.done = true;
        w.resolve(l);
      }
    },
    (err: unknown) => {
      c.log.warn(
        { machine: m.key, err },
        'machine not usable (no connection info or heartbeat); trying another',
      );
      if (!w.done) c.waiters.unshift(w);
      l.release({ broken: true });
      c.kick();
    },
  );
}

/** Hands free slots to waiting jobs, the busiest (then newest) ready machine first. */
export function dispatch(c: ScalerCore): void {
  const host = leaseHost(c);
  while (c.waiters.length > 0) {
    const ready = [...c.machines.values()].filter((m) => machineFree(m, c.o.limits) > 0);
    if (ready.length === 0) return;
    ready.sort((a, b) => b.busy - a.busy || b.createdAtMs - a.createdAtMs);
    const w = c.waiters.shift() as Waiter;
    if (!w.done) grant(c, host, ready[0] as Machine, w);
  }
}

/** Queues a job for a slot; resolves its lease (see `Taskscaler.acquire`). */
export function acquire(
  c: ScalerCore,
  job: string,
  options: { signal?: AbortSignal; front?: boolean; announced?: boolean },
): Promise<Lease> {
  const { timing } = c.o;
  return new Promise<Lease>((resolve, reject) => {
    const w: Waiter = { job, deadlineMs: c.now() + timing.acquireTimeoutMs, resolve, reject, done: false };
    options.signal?.addEventListener('abort', () => {
      if (w.done) return;
      w.done = true;
      reject(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));
    });
    if (options.front) c.waiters.unshift(w);
    else {
      c.waiters.push(w);
      // A job announced before it was pending is no surprise: with announced_jobs, not a burst.
      if (!(options.announced && c.planner?.settings.announcedJobs !== 'off'))
        c.planner?.demand.arrival(c.now());
      c.lastArrivalMs = c.now();
    }
    dispatch(c);
    c.nextUpdateMs = Math.min(c.nextUpdateMs, c.now() + timing.updateExpectingMs);
    c.kick();
  });
}
