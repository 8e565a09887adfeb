/**
 * The executors this build ships, wired for a runner manager: `shell` as is, `docker` built per
 * `[[runners]]` entry from its `[runners.docker]` table. Also removes what a crashed manager left
 * on its Docker engines.
 */
import { Registry } from 'prom-client';

import { createAnnouncementBox } from '../autoscaler/announcements.js';
import { createDockerAutoscalerExecutorFactory } from '../autoscaler/docker-autoscaler-executor.js';
import { createProviderExporter } from '../autoscaler/exporter.js';
import { createFleet, type Fleet } from '../autoscaler/fleet.js';
import { createFleetReporter, type FleetReporter } from '../autoscaler/fleet-reporter.js';
import { metricState } from '../autoscaler/machines.js';
import { controlPath, defaultStatePath } from '../autoscaler/state-store.js';
import type { Config, RunnerConfig } from '../runner/config/schema.js';
import { loadOrCreateSystemId } from '../runner/config/system-id.js';
import { createRunnerManager, type RunnerManager, type RunnerManagerOptions } from '../runner/manager.js';
import { cleanupLeftovers } from '../executors/docker/cleanup.js';
import { connectDocker } from '../executors/docker/docker-client.js';
import {
  createDockerExecutorFactory,
  type DockerExecutorFactory,
} from '../executors/docker/docker-executor-factory.js';
import type { ExecutorFactory } from '../executors/executor.js';
import { createShellExecutorFactory } from '../executors/shell/shell-executor.js';
import type { TargetGroup } from '../observability/http-sd.js';
import { createMachineTargets, type FleetView } from '../observability/machine-targets.js';
import { FLOTILLA_VERSION, shortToken } from '../runner/version.js';
import { loadEnvProviderPlugins } from './provider-plugins.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { errorMessage, FlotillaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

export interface RunnerExecutors {
  registry: Registry;
  executorFactories: ExecutorFactory[];
  executorFactoryFor: (entry: RunnerConfig) => ExecutorFactory | undefined;
  /** Starts the machine fleet of every docker-autoscaler entry (adopting persisted machines). */
  startFleets(config: Config, configPath: string): Promise<void>;
  /** Stops the fleets after the manager stopped (machines are kept or removed as configured) and removes the docker entries' spare helpers. */
  stopFleets(): Promise<void>;
  /** The live machines' exporters as service discovery targets (see observability/machine-targets.ts). */
  machineTargets(): Promise<TargetGroup[]>;
}

interface RunningFleet {
  fleet: Fleet;
  view: FleetView;
  factory: ExecutorFactory;
  exporterTimer: NodeJS.Timeout;
  reporter: FleetReporter;
}

const EXPORTER_INTERVAL_MS = 60_000;

/** A provider's own config check (zod) as a config error naming the keys. */
function configError(entry: RunnerConfig, err: unknown): Error {
  const issues = (err as { issues?: { path: (string | number)[]; message: string }[] }).issues;
  if (!Array.isArray(issues)) return err instanceof Error ? err : new Error(String(err));
  const lines = issues.map(
    (i) => `runners "${entry.name}": [runners.autoscaler.plugin_config] ${i.path.join('.')}: ${i.message}`,
  );
  return new FlotillaError('FLO_ERR_CONFIG_INVALID', lines.join('; '));
}

interface FleetDeps {
  logger: Logger;
  registry: Registry;
  clock: Clock;
}

/** Starts one docker-autoscaler entry's fleet (`entry.autoscaler` set): its executor, exporter and reporter. */
async function startRunningFleet(
  { logger, registry, clock }: FleetDeps,
  entry: RunnerConfig,
  autoscaler: NonNullable<RunnerConfig['autoscaler']>,
  configPath: string,
  systemId: string,
): Promise<RunningFleet> {
  const fleetLogger = logger.child({ runner: shortToken(entry.token) });
  const { predictive } = autoscaler;
  const announcements =
    predictive.enabled && predictive.announced_jobs !== 'off' ? createAnnouncementBox(clock) : undefined;
  const fleet = createFleet({
    ...(announcements ? { announced: announcements.latest } : {}),
    runnerName: entry.name,
    config: autoscaler,
    statePath: autoscaler.state_file ?? defaultStatePath(configPath, entry.name),
    controlPath: controlPath(configPath),
    clock,
    logger: fleetLogger,
    registry,
  });
  try {
    await fleet.start();
  } catch (err) {
    throw configError(entry, err);
  }
  const factory = createDockerAutoscalerExecutorFactory({
    scaler: fleet.scaler,
    docker: entry.docker,
    logger: fleetLogger,
    registry,
    clock,
    version: FLOTILLA_VERSION,
    ...(announcements ? { announcements } : {}),
  });
  const exporter = createProviderExporter({
    runner: entry.name,
    group: fleet.group,
    registry,
    clock,
    logger: fleetLogger,
  });
  const exporterTimer = setInterval(
    () => void exporter.scrape().catch(() => undefined),
    EXPORTER_INTERVAL_MS,
  );
  exporterTimer.unref();
  const view: FleetView = {
    runner: shortToken(entry.token),
    runnerName: entry.name,
    machines: () => fleet.scaler.machines().map((m) => ({ key: m.key, state: metricState(m) })),
    connectInfo: (key) => fleet.group.connectInfo(key),
  };
  const reporter = createFleetReporter({
    url: entry.url,
    token: entry.token,
    systemId,
    runnerName: entry.name,
    fleet,
    controlPath: controlPath(configPath),
    clock,
    logger: fleetLogger,
  });
  reporter.start();
  return { fleet, view, factory, exporterTimer, reporter };
}

/**
 * The executors of a runner manager. `env` names the provider plugins (FLOTILLA_PROVIDER_PLUGINS),
 * loaded by `startFleets` whether or not an entry uses them, so a bad list is a config error at start.
 */
export function runnerExecutors(
  logger: Logger,
  registry = new Registry(),
  env: NodeJS.ProcessEnv = process.env,
): RunnerExecutors {
  const clock = systemClock;
  const docker = (config: RunnerConfig['docker'] | Record<string, never>): DockerExecutorFactory =>
    createDockerExecutorFactory({ config, logger, registry, clock, version: FLOTILLA_VERSION });
  // The docker entries' factories, which keep a spare helper between jobs: a factory replaced by a
  // config change, and every one at stop, removes its spare.
  const dockerEntries = new Map<string, DockerExecutorFactory>();
  const dockerEntry = (entry: RunnerConfig): ExecutorFactory => {
    const previous = dockerEntries.get(entry.token);
    const factory = createDockerExecutorFactory({
      config: entry.docker,
      logger,
      registry,
      clock,
      version: FLOTILLA_VERSION,
      spareHelpers: entry.docker?.spare_helper ?? true,
    });
    dockerEntries.set(entry.token, factory);
    void previous?.close();
    return factory;
  };
  const fleets = new Map<string, RunningFleet>();

  async function startFleet(entry: RunnerConfig, configPath: string, systemId: string): Promise<void> {
    if (!entry.autoscaler || fleets.has(entry.name)) return;
    fleets.set(
      entry.name,
      await startRunningFleet({ logger, registry, clock }, entry, entry.autoscaler, configPath, systemId),
    );
  }

  const machines = createMachineTargets(() => [...fleets.values()].map((f) => f.view));

  /** The entry's fleet with a reloaded policy applied; other changed keys are logged (restart). */
  function reconfigured(entry: RunnerConfig): ExecutorFactory | undefined {
    const running = fleets.get(entry.name);
    if (!running || !entry.autoscaler) return running?.factory;
    const pending = running.fleet.reconfigure(entry.autoscaler);
    if (pending.length > 0) {
      logger.warn(
        { runner: shortToken(entry.token), keys: pending.map((k) => `runners.autoscaler.${k}`) },
        'config change needs a restart to apply',
      );
    }
    return running.factory;
  }

  return {
    registry,
    machineTargets: () => machines.targets(),
    executorFactories: [createShellExecutorFactory(), docker({})],
    executorFactoryFor: (entry) => {
      if (entry.executor === 'docker') return dockerEntry(entry);
      if (entry.executor === 'docker-autoscaler') return reconfigured(entry);
      return undefined;
    },
    async startFleets(config, configPath) {
      const plugins = await loadEnvProviderPlugins(env);
      if (plugins.length > 0) logger.info({ plugins }, 'provider plugins loaded');
      const entries = config.runners.filter((r) => r.executor === 'docker-autoscaler');
      if (entries.length === 0) return;
      const systemId = await loadOrCreateSystemId(configPath);
      for (const entry of entries) await startFleet(entry, configPath, systemId);
    },
    async stopFleets() {
      await Promise.all([...dockerEntries.values()].map((f) => f.close()));
      dockerEntries.clear();
      for (const [name, running] of fleets) {
        clearInterval(running.exporterTimer);
        running.reporter.stop();
        await running.fleet
          .stop()
          .catch((err: unknown) =>
            logger.error({ runner: name, err: errorMessage(err) }, 'fleet stop failed'),
          );
      }
      fleets.clear();
    },
  };
}

/** Removes containers, networks and volumes that a previous run of these docker entries left behind. */
export async function cleanupDockerLeftovers(config: Config, logger: Logger): Promise<void> {
  for (const entry of config.runners.filter((r) => r.executor === 'docker')) {
    try {
      const report = await cleanupLeftovers(connectDocker(entry.docker).docker, shortToken(entry.token));
      logger.info({ runner: shortToken(entry.token), ...report }, 'docker leftovers cleaned');
    } catch (err) {
      logger.warn(
        { runner: shortToken(entry.token), err: errorMessage(err) },
        'docker leftovers not cleaned: engine unreachable',
      );
    }
  }
}

/**
 * A runner manager for a config.toml, as `runner run` and `up` build it: leftovers cleaned, fleets
 * started, executors wired. The caller starts it and, after it stopped, calls `executors.stopFleets()`.
 */
export async function createConfiguredManager(
  config: Config,
  configPath: string,
  logger: Logger,
  extra: Partial<RunnerManagerOptions> = {},
): Promise<{ manager: RunnerManager; executors: RunnerExecutors }> {
  await cleanupDockerLeftovers(config, logger);
  const executors = runnerExecutors(logger);
  await executors.startFleets(config, configPath);
  const manager = createRunnerManager({
    config,
    configPath,
    systemId: await loadOrCreateSystemId(configPath),
    logger,
    clock: systemClock,
    ...executors,
    version: FLOTILLA_VERSION,
    discoveryTargets: executors.machineTargets,
    ...extra,
  });
  return { manager, executors };
}
