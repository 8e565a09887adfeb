/**
 * The runner manager's shared state (see manager.ts): one object that the manager's steps
 * (manager-entries.ts, manager-lifecycle.ts) read and update.
 */
import { dirname } from 'node:path';

import type { Config } from './config/schema.js';
import type { ConfigWatcher } from './config/watch.js';
import type { ConsulRegistrar } from '../observability/consul.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { countingLogger } from './counting-logger.js';
import { createJobJournal, type JobJournal } from './job-journal.js';
import type { EntryState } from './job-launcher.js';
import type { RunnerManagerOptions } from './manager.js';
import { createRunnerMetrics, type RunnerMetrics } from './metrics.js';
import type { RunningJob } from './running-jobs.js';
import { createSlots, type Slots } from './slots.js';
import type { StatusServer } from './status-server.js';
import { FLOTILLA_VERSION } from './version.js';

export interface ManagerState {
  readonly options: RunnerManagerOptions;
  readonly clock: Clock;
  readonly systemId: string;
  readonly version: string;
  readonly baseDir: string;
  readonly journal: JobJournal | undefined;
  config: Config;
  readonly entries: Map<string, EntryState>;
  readonly running: Map<number, RunningJob>;
  readonly jobPromises: Set<Promise<void>>;
  readonly workerPromises: Set<Promise<void>>;
  readonly slots: Slots;
  readonly pollController: AbortController;
  readonly shutdownController: AbortController;
  readonly metrics: RunnerMetrics;
  readonly logger: Logger;
  started: boolean;
  stopPromise: Promise<void> | undefined;
  statusServer: StatusServer | undefined;
  watcher: ConfigWatcher | undefined;
  consul: ConsulRegistrar | undefined;
  /** Resolved by a forced stop: from then on the shutdown waits at most `shutdown_timeout`. */
  readonly forced: Promise<void>;
  readonly escalate: () => void;
}

export function createManagerState(options: RunnerManagerOptions): ManagerState {
  const { clock, systemId } = options;
  const version = options.version ?? FLOTILLA_VERSION;
  const stateDir = options.stateDir ?? (options.configPath ? dirname(options.configPath) : undefined);
  const running = new Map<number, RunningJob>();
  const metrics = createRunnerMetrics({
    registry: options.registry,
    systemId,
    version,
    runningJobs: () => [...running.values()],
  });
  let escalate: () => void = () => undefined;
  const forced = new Promise<void>((r) => (escalate = r));
  return {
    options,
    clock,
    systemId,
    version,
    baseDir: options.baseDir ?? (options.configPath ? dirname(options.configPath) : process.cwd()),
    journal: stateDir === undefined ? undefined : createJobJournal(stateDir),
    config: options.config,
    entries: new Map(),
    running,
    jobPromises: new Set(),
    workerPromises: new Set(),
    slots: createSlots(options.config.concurrent),
    pollController: new AbortController(),
    shutdownController: new AbortController(),
    metrics,
    logger: countingLogger(options.logger, (level) => metrics.errorsTotal.inc({ level })),
    started: false,
    stopPromise: undefined,
    statusServer: undefined,
    watcher: undefined,
    consul: undefined,
    forced,
    escalate: () => escalate(),
  };
}
