/**
 * Flotilla's side of the simulation: the real taskscaler (src/autoscaler/taskscaler.ts) behind the
 * real provider group (per-provider token bucket, error backoff, failover), configured from the
 * real `[runners.autoscaler]` schema defaults, on a simulated clock and a simulated provider.
 *
 * A discrete-event loop replaces the manager's timers: every simulated second it releases the
 * leases of jobs that finished, acquires a lease for each job that became pending (the runner takes
 * the job first and asks for a machine, as the docker-autoscaler executor does; a staged pipeline's
 * later stage is pending once its previous stage finished, see stages.ts), gives the taskscaler what
 * a Flotilla coordinator announces (`announced_jobs`), runs one `tick()` (what `run()` does each
 * second), lets the promise chains settle, samples the fleet and advances the clock.
 */
import { Registry } from 'prom-client';

import { autoscalerConfigSchema } from '../../src/autoscaler/autoscaler-config.js';
import { autoscalerMetrics } from '../../src/autoscaler/metrics.js';
import { createProviderGroup, splitKey } from '../../src/autoscaler/provider-group.js';
import { createTaskscaler, type Lease } from '../../src/autoscaler/taskscaler.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createAccounting, type SimResult } from './accounting.js';
import { DAY_SECONDS, DRAIN_SECONDS, type FleetSettings } from './fleet-settings.js';
import { createSimClock } from './sim-clock.js';
import { createSimProvider, type SimProviderStats } from './sim-provider.js';
import { createStageGate } from './stages.js';
import { seededRandom, type WorkloadJob } from './workload.js';

export interface FleetRun extends SimResult {
  provider: SimProviderStats;
  /** The backup provider's events, when there is one. */
  backup?: SimProviderStats;
  /** Provider errors the group counted, by kind (what flotilla_autoscaler_provider_errors_total shows). */
  providerErrors: Record<string, number>;
  /** flotilla_autoscaler_decisions_total of the measured day, by `action:reason` (Flotilla only). */
  decisions?: Record<string, number>;
  /** The same per hour of the measured day (index = hour; Flotilla only). */
  decisionsByHour?: Record<string, number>[];
  /**
   * Per job of `waits` (same order): no ready idle slot was left for it when it arrived (the jobs
   * waiting before it, or arriving with it ahead of it, had taken them all). Flotilla only.
   */
  noReadySlot?: boolean[];
  /** Per job of `waits` (same order): its stage (0 unstaged). Flotilla only. */
  waitStages?: number[];
}

async function decisionsOf(registry: Registry): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find(
    (m) => m.name === 'flotilla_autoscaler_decisions_total',
  );
  const out: Record<string, number> = {};
  for (const v of metric?.values ?? []) {
    const key = `${String(v.labels.action)}:${String(v.labels.reason)}`;
    out[key] = (out[key] ?? 0) + v.value;
  }
  return out;
}

/** Counters of the measured day: `now` minus what the warm-up day left. */
function minus<T extends object>(now: T, before: T): T {
  const a = now as Record<string, number>;
  const b = before as Record<string, number>;
  return Object.fromEntries(Object.keys(a).map((k) => [k, (a[k] ?? 0) - (b[k] ?? 0)])) as T;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Ready idle slots (machines ready, not lost, without a job; one slot each as in the bench). */
function readySlots(scaler: {
  machines(): readonly { state: string; busy: number; lost: boolean }[];
}): number {
  return scaler.machines().filter((m) => m.state === 'ready' && m.busy === 0 && !m.lost).length;
}

export async function simulateTaskscaler(jobs: readonly WorkloadJob[], s: FleetSettings): Promise<FleetRun> {
  const day = s.daySeconds ?? DAY_SECONDS;
  const warmup = s.yesterday ? day : 0;
  const clock = createSimClock(undefined, -warmup * 1000);
  const logger = silentLogger();
  const cloud = createSimProvider(s.provider, clock, seededRandom(s.seed), 'p');
  const backup = s.backup ? createSimProvider(s.backup, clock, seededRandom(s.seed + 1), 'b') : null;
  const config = autoscalerConfigSchema.parse({
    plugin: 'sim',
    capacity_per_instance: 1,
    max_instances: s.maxMachines,
    instance_ready_timeout: s.readyTimeoutSeconds,
    ...(s.listExpectingSeconds ? { update_interval_when_expecting: s.listExpectingSeconds } : {}),
    policy: [{ idle_count: s.idleCount, idle_time: s.idleTimeSeconds }],
    ...(s.predictive ? { predictive: s.predictive } : {}),
  });
  let idleSlots = s.idleCount;
  const policies = s.idleSlotsAt
    ? () => config.policy.map((p) => ({ ...p, idle_count: idleSlots }))
    : () => config.policy;
  const providerErrors: Record<string, number> = {};
  const registry = new Registry();
  // The same throttle mapping as the manager's fleet (src/autoscaler/fleet.ts buildGroup).
  const group = createProviderGroup({
    members: [
      { name: 'primary', group: cloud, backup: false },
      ...(backup ? [{ name: 'backup', group: backup, backup: true }] : []),
    ],
    failoverAfterMs: config.failover_after * 1000,
    failoverOnCapacity: config.failover_on_capacity,
    throttle: {
      limit: config.scale_throttle.limit === 0 ? 100 : config.scale_throttle.limit,
      burst: config.scale_throttle.burst || config.max_instances || 10,
    },
    clock,
    logger,
    onError: (_p, _op, kind) => void (providerErrors[kind] = (providerErrors[kind] ?? 0) + 1),
  });
  await group.init({ clock, logger });
  const scaler = createTaskscaler({
    runner: 'sim',
    provider: group,
    limits: {
      capacityPerInstance: config.capacity_per_instance,
      maxUseCount: config.max_use_count,
      maxInstances: config.max_instances,
    },
    policies,
    predictive: config.predictive,
    announced: () => announced,
    timing: {
      readyTimeoutMs: config.instance_ready_timeout * 1000,
      acquireTimeoutMs: config.instance_acquire_timeout * 1000,
      updateIntervalMs: config.update_interval * 1000,
      updateExpectingMs: config.update_interval_when_expecting * 1000,
      deletionRetryMs: config.deletion_retry_interval * 1000,
    },
    readyCheck: async () => undefined,
    clock,
    logger,
    metrics: autoscalerMetrics(registry),
  });

  const acc = createAccounting();
  const busy = new Set<string>();
  const finishing = new Map<number, { lease: Lease; index: number }[]>();
  /** Durations of the jobs waiting for a machine, by job index (for `idleSlotsAt`). */
  const pending = new Map<number, number>();
  const all = [
    ...(s.yesterday ?? []).map((j) => ({ ...j, arrival: j.arrival - warmup, measured: false })),
    ...jobs.map((j) => ({ ...j, measured: true })),
  ];
  // Yesterday's pipelines apart from today's (same numbers): negative keys.
  const gate = createStageGate(all, (j) => (j.measured ? j.pipeline : -j.pipeline));
  let announced = gate.announced(-warmup);
  let open = all.length;
  const noReadySlot: boolean[] = [];
  const waitStages: number[] = [];
  const hourly: Record<string, number>[] = [];
  let before = {
    provider: { ...cloud.stats },
    backup: { ...(backup?.stats ?? cloud.stats) },
    errors: { ...providerErrors },
    decisions: {} as Record<string, number>,
  };
  for (let t = -warmup; t < day || (open > 0 && t < day + DRAIN_SECONDS); t++) {
    if (t === 0 && warmup > 0)
      before = {
        provider: { ...cloud.stats },
        backup: { ...(backup?.stats ?? cloud.stats) },
        errors: { ...providerErrors },
        decisions: await decisionsOf(registry),
      };
    if (t > 0 && t <= day && (t % 3600 === 0 || t === day)) hourly.push(await decisionsOf(registry));
    for (const { lease, index } of finishing.get(t) ?? []) {
      busy.delete(splitKey(lease.key).id);
      lease.release();
      gate.finished(index);
      open--;
    }
    finishing.delete(t);
    let ahead = scaler.waiting();
    const due = gate.due(t);
    const ready = due.length > 0 ? readySlots(scaler) : 0;
    for (const index of due) {
      const job = all[index]!;
      const at = t;
      pending.set(index, job.duration);
      const slotless = ahead++ >= ready;
      scaler.acquire(`job-${index}`, s.markAnnounced && (job.stage ?? 0) > 0 ? { announced: true } : {}).then(
        (lease) => {
          const now = Math.round(clock.seconds());
          if (job.measured) {
            acc.wait(now - at, at);
            noReadySlot.push(slotless);
            waitStages.push(job.stage ?? 0);
          }
          pending.delete(index);
          lease.started();
          busy.add(splitKey(lease.key).id);
          const end = now + job.duration;
          finishing.set(end, [...(finishing.get(end) ?? []), { lease, index }]);
        },
        () => {
          if (job.measured) acc.timeout();
          gate.finished(index);
          pending.delete(index);
          open--;
        },
      );
    }
    if (t % (s.announceEverySeconds ?? 1) === 0)
      announced = { ...gate.announced(t), atMs: clock.now().getTime() };
    if (s.idleSlotsAt)
      idleSlots = s.idleSlotsAt(t, [
        ...[...finishing].flatMap(([end, leases]) => leases.map(() => end)),
        ...[...pending.values()].map((duration) => t + duration),
      ]);
    await scaler.tick();
    await settle();
    if (t >= 0 && t < day) acc.sample([...cloud.view(), ...(backup?.view() ?? [])], busy, t);
    clock.advance(1000);
  }
  // The day's last hour when no job ran on past the day (the loop stopped before t = day).
  if (hourly.length < Math.ceil(day / 3600)) hourly.push(await decisionsOf(registry));
  const byHour = [before.decisions, ...hourly].slice(0, -1).map((b, h) => minus(hourly[h] ?? b, b));
  return {
    ...acc.result(),
    decisionsByHour: byHour,
    noReadySlot,
    waitStages,
    provider: minus(cloud.stats, before.provider),
    ...(backup ? { backup: minus(backup.stats, before.backup) } : {}),
    providerErrors: minus(providerErrors, before.errors),
    decisions: minus(await decisionsOf(registry), before.decisions),
  };
}
