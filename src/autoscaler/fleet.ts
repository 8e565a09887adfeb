/**
 * One runner entry's fleet: builds the provider group from `[runners.autoscaler]`, the taskscaler
 * with its persisted state (adopting machines a previous manager left), the hand-set pauses, the
 * interval cleaner and the metrics. `start()` / `stop()` are the manager's hooks.
 */
import type { AnnouncedJobs } from '../api/announced-jobs.js';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import type { Registry } from 'prom-client';

import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { providerEntries, type AutoscalerConfig } from './autoscaler-config.js';
import { cleanFleet, type CleanReport } from './cleaner.js';
import { demandHistory, demandPathFor } from './demand-store.js';
import { autoscalerMetrics, type AutoscalerMetrics } from './metrics.js';
import { createProviderGroup, type ProviderGroup } from './provider-group.js';
import { providerFactory } from './providers/registry.js';
import { createReadyCheck } from './ready-check.js';
import { readControl, readState, stateWriter } from './state-store.js';
import { createTaskscaler, type Taskscaler, type TaskscalerOptions } from './taskscaler.js';

export interface FleetOptions {
  runnerName: string;
  config: AutoscalerConfig;
  /** The machine state file (see `defaultStatePath`). */
  statePath: string;
  /** The hand-set pauses file (see `controlPath`). */
  controlPath: string;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** The jobs the coordinator announced last (`announced_jobs`); absent = none. */
  announced?: () => AnnouncedJobs | undefined;
}

export interface Fleet {
  readonly scaler: Taskscaler;
  readonly group: ProviderGroup;
  readonly metrics: AutoscalerMetrics;
  start(): Promise<void>;
  /** Stops the loop; removes every machine when `delete_instances_on_shutdown` (or `deleteInstances`). */
  stop(options?: { deleteInstances?: boolean }): Promise<void>;
  clean(options: { dryRun: boolean }): Promise<CleanReport>;
  /**
   * A reloaded `[runners.autoscaler]`: the policies (`[[runners.autoscaler.policy]]`) apply at the
   * next tick; returns the other keys that changed, which need a restart.
   */
  reconfigure(next: AutoscalerConfig): string[];
}

/** Top-level `[runners.autoscaler]` keys whose values differ (policy excluded). */
export function changedKeys(before: AutoscalerConfig, after: AutoscalerConfig): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  keys.delete('policy');
  const differs = (k: string): boolean =>
    JSON.stringify((before as Record<string, unknown>)[k]) !==
    JSON.stringify((after as Record<string, unknown>)[k]);
  return [...keys].filter(differs).sort();
}

/** The provider group of a config (providers created, not initialized). */
export function buildGroup(
  o: Pick<FleetOptions, 'runnerName' | 'config' | 'clock' | 'logger'>,
  metrics: AutoscalerMetrics,
): ProviderGroup {
  const c = o.config;
  const members = providerEntries(c).map((e) => {
    const factory = providerFactory(e.plugin);
    return {
      name: e.name,
      backup: e.backup,
      group: factory.create(factory.parseConfig(e.plugin_config, { runnerName: o.runnerName })),
    };
  });
  return createProviderGroup({
    members,
    failoverAfterMs: c.failover_after * 1000,
    failoverOnCapacity: c.failover_on_capacity,
    throttle: {
      limit: c.scale_throttle.limit === 0 ? 100 : c.scale_throttle.limit,
      burst: c.scale_throttle.burst || c.max_instances || 10,
    },
    clock: o.clock,
    logger: o.logger,
    onError: (provider, operation, kind) =>
      metrics.providerErrors.inc({ runner: o.runnerName, provider, operation, kind }),
  });
}

/** How often the predictive pool's measurements are saved (when they changed), and at stop. */
const DEMAND_SAVE_MS = 60_000;

/** Every machine key in the state files of the folder of `statePath` (all managers sharing it). */
export async function knownKeys(statePath: string): Promise<Set<string>> {
  const dir = dirname(statePath);
  const keys = new Set<string>();
  const files = await readdir(dir).catch(() => [] as string[]);
  for (const f of files.filter((n) => n.startsWith('autoscaler-') && n.endsWith('.json'))) {
    const state = await readState(join(dir, f), '').catch(() => null);
    for (const m of state?.machines ?? []) if (m.key) keys.add(m.key);
  }
  return keys;
}

/** The taskscaler's options from `[runners.autoscaler]` (durations in seconds become milliseconds). */
function taskscalerOptions(
  o: FleetOptions,
  parts: Required<Pick<TaskscalerOptions, 'policies' | 'metrics' | 'persist'>> & {
    group: ProviderGroup;
    log: Logger;
  },
): TaskscalerOptions {
  const c = o.config;
  return {
    runner: o.runnerName,
    provider: parts.group,
    limits: {
      capacityPerInstance: c.capacity_per_instance,
      maxUseCount: c.max_use_count,
      maxInstances: c.max_instances,
    },
    policies: parts.policies,
    predictive: c.predictive,
    ...(o.announced ? { announced: o.announced } : {}),
    timing: {
      readyTimeoutMs: c.instance_ready_timeout * 1000,
      acquireTimeoutMs: c.instance_acquire_timeout * 1000,
      updateIntervalMs: c.update_interval * 1000,
      updateExpectingMs: c.update_interval_when_expecting * 1000,
      deletionRetryMs: c.deletion_retry_interval * 1000,
    },
    readyCheck: createReadyCheck(c.instance_ready_command),
    clock: o.clock,
    logger: parts.log,
    metrics: parts.metrics,
    persist: parts.persist,
  };
}

/** One cleaner pass: machines of the provider that no state file knows, and old zero-id entries. */
async function cleanOnce(
  o: FleetOptions,
  parts: { scaler: Taskscaler; group: ProviderGroup; log: Logger; metrics: AutoscalerMetrics },
  options: { dryRun: boolean },
): Promise<CleanReport> {
  const { scaler } = parts;
  const known = await knownKeys(o.statePath);
  for (const m of scaler.machines()) known.add(m.key);
  return cleanFleet({
    runner: o.runnerName,
    group: parts.group,
    known,
    zeroIds: scaler.zeroIdRecords(),
    dropZeroIds: (drop) => scaler.forgetZeroIds((r) => !drop(r)),
    orphanMinAgeMs: o.config.cleaner.orphan_min_age * 1000,
    zeroIdMaxAgeMs: o.config.cleaner.zero_id_max_age * 1000,
    nowMs: o.clock.now().getTime(),
    dryRun: options.dryRun,
    logger: parts.log,
    metrics: parts.metrics,
  });
}

export function createFleet(o: FleetOptions): Fleet {
  const c = o.config;
  let policies = c.policy;
  const log = o.logger.child({ runner: o.runnerName });
  const metrics = autoscalerMetrics(o.registry);
  const group = buildGroup({ ...o, logger: log }, metrics);
  const writer = stateWriter(o.statePath);
  const scaler = createTaskscaler(
    taskscalerOptions(o, {
      group,
      log,
      metrics,
      policies: () => policies,
      persist: (state) => writer.write(state),
    }),
  );
  const demand = scaler.demand();
  const history = demand
    ? demandHistory({
        path: demandPathFor(o.statePath),
        runner: o.runnerName,
        model: demand,
        clock: o.clock,
        logger: log,
      })
    : null;
  const loop = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  let running: Promise<void> | null = null;

  async function applyControl(): Promise<void> {
    const control = await readControl(o.controlPath);
    for (const p of group.status()) group.setManual(p.name, control.providers[p.name] ?? null);
    for (const p of group.status())
      metrics.providerPaused.set({ runner: o.runnerName, provider: p.name }, p.paused ? 1 : 0);
  }

  const clean = (options: { dryRun: boolean }): Promise<CleanReport> =>
    cleanOnce(o, { scaler, group, log, metrics }, options);

  return {
    scaler,
    group,
    metrics,
    async start() {
      await group.init({ clock: o.clock, logger: log });
      scaler.adopt(await readState(o.statePath, o.runnerName));
      await history?.restore();
      await applyControl();
      running = scaler.run(loop.signal);
      timers.push(setInterval(() => void applyControl().catch(() => undefined), 2000));
      if (history) timers.push(setInterval(() => void history.save(), DEMAND_SAVE_MS));
      if (c.cleaner.interval > 0)
        timers.push(
          setInterval(
            () => void clean({ dryRun: false }).catch((err: unknown) => log.warn({ err }, 'cleaner failed')),
            c.cleaner.interval * 1000,
          ),
        );
    },
    async stop(options = {}) {
      for (const t of timers) clearInterval(t);
      loop.abort();
      await running;
      await history?.save();
      if (options.deleteInstances ?? c.delete_instances_on_shutdown) await scaler.removeAll(60);
      else await writer.write(scaler.state());
      await group.shutdown();
    },
    clean,
    reconfigure(next) {
      if (JSON.stringify(next.policy) !== JSON.stringify(policies)) {
        policies = next.policy;
        log.info({ policies: policies.length }, 'autoscaler policy reloaded');
      }
      return changedKeys(c, next);
    },
  };
}
