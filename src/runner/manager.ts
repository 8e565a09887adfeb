/**
 * The runner manager (`flotilla runner run`, and in-process for `flotilla up` / `flotilla run`):
 * one set of poll workers per `[[runners]]` entry, job slots (`concurrent`, `limit`,
 * `request_concurrency`), job runs through the entry's executor, config hot reload, the status
 * server, and an escalating shutdown:
 * - `stop({ graceful: true })`: stop requesting (in-flight long polls are aborted), wait for the
 *   running jobs, no time limit;
 * - `stop({ graceful: false })` (also during a graceful stop): running jobs are aborted and report
 *   `runner_system_failure`; waits at most `shutdown_timeout`.
 * `stop` is idempotent and always returns the same promise.
 */
import type { Registry } from 'prom-client';

import type { Config, RunnerConfig } from './config/schema.js';
import type { ExecutorFactory } from '../executors/executor.js';
import type { TargetGroup } from '../observability/http-sd.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { applyConfig } from './manager-entries.js';
import { shutdownManager, startManager } from './manager-lifecycle.js';
import { createManagerState } from './manager-state.js';
import type { RunningJob } from './running-jobs.js';

export interface RunnerManagerOptions {
  /** The validated config (from `loadConfigFile` / `validateConfig`). */
  config: Config;
  /** When set, the file is watched (mtime every 3 s) and `reload()` re-reads it. */
  configPath?: string;
  /** Base for relative/default `builds_dir` and `cache_dir`; default: the config file's folder, else cwd. */
  baseDir?: string;
  /**
   * Where the job journal lives (`.runner_jobs/`, see job-journal.ts); default: the config file's
   * folder. Without a config file and without this, no journal is kept.
   */
  stateDir?: string;
  systemId: string;
  logger: Logger;
  clock: Clock;
  registry: Registry;
  executorFactories: readonly ExecutorFactory[];
  /**
   * Builds the executor factory of one `[[runners]]` entry when it needs the entry's own settings
   * (the docker executor's `[runners.docker]`); called again when a reload changes the entry.
   * Returning undefined falls back to `executorFactories`.
   */
  executorFactoryFor?: (entry: RunnerConfig) => ExecutorFactory | undefined;
  version?: string;
  fetch?: typeof fetch;
  random?: () => number;
  configWatchIntervalMs?: number;
  /** Service discovery targets served next to the manager's own (the machines' exporters). */
  discoveryTargets?: () => Promise<readonly TargetGroup[]>;
  /** Called when a job of this manager has ended, whatever its outcome (`flotilla run` wakes its log follower). */
  onJobEnded?: (jobId: number) => void;
  /**
   * Called with each config as it is applied, before its runner entries (e.g. to follow `log_level`
   * and `sentry_dsn`, so errors of the entries already use them).
   */
  onConfigApplied?: (config: Config) => void;
}

export interface RunnerManager {
  /** Starts polling (and the status server and config watcher). */
  start(): Promise<void>;
  stop(options: { graceful: boolean }): Promise<void>;
  /** Re-reads the config file now (SIGHUP); resolves true when a new config was applied. */
  reload(): Promise<boolean>;
  /** Swaps in a validated config; running jobs keep their snapshot. */
  applyConfig(config: Config): void;
  readonly config: Config;
  /** The status server's bound `host:port`, when `listen_address` is set and started. */
  readonly statusAddress: string | null;
  runningJobs(): readonly RunningJob[];
}

export function createRunnerManager(options: RunnerManagerOptions): RunnerManager {
  const m = createManagerState(options);
  return {
    start: () => startManager(m),
    stop({ graceful }) {
      if (!graceful) {
        m.shutdownController.abort();
        m.escalate();
      }
      m.stopPromise ??= shutdownManager(m);
      return m.stopPromise;
    },
    async reload() {
      return m.watcher ? m.watcher.reload(true) : false;
    },
    applyConfig: (next) => applyConfig(m, next),
    get config() {
      return m.config;
    },
    get statusAddress() {
      return m.statusServer?.address ?? null;
    },
    runningJobs: () => [...m.running.values()],
  };
}
