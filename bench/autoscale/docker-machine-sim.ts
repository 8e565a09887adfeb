/**
 * The baseline: GitLab Runner's docker+machine autoscaling (IdleCount/IdleTime, the legacy
 * executor), modelled after its algorithm (see the autoscaling reference §2.2) and driven on the
 * same simulated clock and the same simulated provider as Flotilla's taskscaler:
 * - jobs become pending as in Flotilla's simulation (stages.ts: a staged pipeline's later stage once
 *   its previous stage finished);
 * - every check_interval the runner asks for jobs; each attempt (Acquire) lists the machines,
 *   removes idle ones past IdleTime while more than IdleCount are available (idle + creating),
 *   creates machines up to IdleCount available (with IdleCount 0, one per waiting job, on demand),
 *   and hands the queue's jobs to idle machines, newest first;
 * - every machine is its own `docker-machine create` (one provider request each, no backoff: a
 *   failed creation is simply tried again on the next attempt); a machine not ready within the
 *   ready timeout fails its create and is removed; a failed removal is retried 30 s later.
 */
import { createAccounting } from './accounting.js';
import { DAY_SECONDS, DRAIN_SECONDS, type FleetSettings } from './fleet-settings.js';
import { createSimClock } from './sim-clock.js';
import { createSimProvider } from './sim-provider.js';
import type { FleetRun } from './taskscaler-sim.js';
import { createStageGate } from './stages.js';
import { seededRandom, type WorkloadJob } from './workload.js';

interface Machine {
  id: string;
  state: 'creating' | 'idle' | 'busy' | 'removing';
  /** The job it runs (index in the day's jobs) while busy. */
  job: number;
  createdAt: number;
  idleSince: number;
  busyUntil: number;
  retryRemovalAt: number;
}

const REMOVAL_RETRY_SECONDS = 30;

export async function simulateDockerMachine(
  jobs: readonly WorkloadJob[],
  s: FleetSettings,
): Promise<FleetRun> {
  const clock = createSimClock();
  const cloud = createSimProvider(s.provider, clock, seededRandom(s.seed));
  const providerErrors: Record<string, number> = {};
  const failed = (err: unknown): void => {
    const kind = (err as { kind?: string }).kind ?? 'api';
    providerErrors[kind] = (providerErrors[kind] ?? 0) + 1;
  };
  const acc = createAccounting();
  const machines = new Map<string, Machine>();
  /** Pending jobs: index in `jobs` and the second it became pending. */
  const queue: { index: number; at: number }[] = [];
  const gate = createStageGate(jobs);
  let done = 0;

  async function remove(m: Machine, t: number): Promise<void> {
    m.state = 'removing';
    const gone = await cloud.decrease([m.id]).catch((err: unknown) => (failed(err), [] as string[]));
    if (gone.includes(m.id)) machines.delete(m.id);
    else m.retryRemovalAt = t + REMOVAL_RETRY_SECONDS;
  }

  async function refresh(t: number): Promise<void> {
    const running = new Set<string>();
    try {
      await cloud.update((i) => {
        if (i.state === 'running') running.add(i.id);
      });
    } catch (err) {
      failed(err);
      return;
    }
    for (const m of machines.values()) {
      if (m.state !== 'creating') continue;
      if (running.has(m.id)) Object.assign(m, { state: 'idle', idleSince: t });
      else if (t - m.createdAt > s.readyTimeoutSeconds) await remove(m, t);
    }
  }

  async function acquire(t: number): Promise<void> {
    await refresh(t);
    const idle = [...machines.values()]
      .filter((m) => m.state === 'idle')
      .sort((a, b) => a.idleSince - b.idleSince);
    const creating = [...machines.values()].filter((m) => m.state === 'creating').length;
    let available = idle.length + creating;
    for (const m of idle) {
      if (t - m.idleSince > s.idleTimeSeconds && available > s.idleCount) {
        available--;
        await remove(m, t);
      }
    }
    // Hand out idle machines (newest first) before creating: a free machine is never created for.
    const free = [...machines.values()]
      .filter((m) => m.state === 'idle')
      .sort((a, b) => b.createdAt - a.createdAt);
    while (queue.length > 0 && free.length > 0) {
      const { index, at } = queue.shift()!;
      Object.assign(free.shift()!, { state: 'busy', busyUntil: t + jobs[index]!.duration, job: index });
      available--;
      acc.wait(t - at, at);
    }
    const onDemand = s.idleCount === 0 ? Math.max(0, queue.length - creating) : 0;
    const toIdle = Math.max(0, s.idleCount - available);
    const create = Math.min(Math.max(onDemand, toIdle), Math.max(0, s.maxMachines - machines.size));
    for (let i = 0; i < create; i++) {
      try {
        for (const id of await cloud.increase(1))
          machines.set(id, {
            id,
            state: 'creating',
            job: -1,
            createdAt: t,
            idleSince: t,
            busyUntil: 0,
            retryRemovalAt: 0,
          });
      } catch (err) {
        failed(err);
      }
    }
  }

  const day = s.daySeconds ?? DAY_SECONDS;
  for (let t = 0; t < day || (done < jobs.length && t < day + DRAIN_SECONDS); t++) {
    // Jobs end before the second's new pending jobs are queued: a stage that ended releases the next.
    for (const m of machines.values()) {
      if (m.state === 'busy' && m.busyUntil <= t) {
        Object.assign(m, { state: 'idle', idleSince: t });
        gate.finished(m.job);
        done++;
      }
      if (m.state === 'removing' && m.retryRemovalAt > 0 && m.retryRemovalAt <= t) await remove(m, t);
    }
    for (const index of gate.due(t)) queue.push({ index, at: t });
    if (t % s.checkIntervalSeconds === 0) await acquire(t);
    if (t < day) {
      const busy = new Set([...machines.values()].filter((m) => m.state === 'busy').map((m) => m.id));
      acc.sample(cloud.view(), busy, t);
    }
    clock.advance(1000);
  }
  return { ...acc.result(), provider: { ...cloud.stats }, providerErrors };
}
