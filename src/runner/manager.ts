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
import { dirname } from 'node:path';

import type { Registry } from 'prom-client';

import type { JobPayload } from '../api/runner-api.js';
import type { Config, RunnerConfig } from '../config/schema.js';
import { createConfigWatcher, fileMtimeMs, type ConfigWatcher } from '../config/watch.js';
import type { ExecutorFactory } from '../executors/executor.js';
import type { ConsulRegistrar } from '../observability/consul.js';
import type { TargetGroup } from '../observability/http-sd.js';
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { createCoordinatorClient, type CoordinatorClient } from './coordinator-client.js';
import { startManagerConsul } from './consul-registration.js';
import { countingLogger } from './counting-logger.js';
import { createJobJournal, settleOrphanedJobs, type JobJournal, type JournalEntry } from './job-journal.js';
import { launchJob, type EntryState } from './job-launcher.js';
import { createRunnerMetrics, initEntryMetrics, statusClass, type RunnerMetrics } from './metrics.js';
import { runPollWorker } from './poller.js';
import type { RunningJob } from './running-jobs.js';
import { createSlots } from './slots.js';
import { startStatusServer, withMetricsAddress, type StatusServer } from './status-server.js';
import { FLOTILLA_VERSION, runnerInfo, shortToken, userAgent } from './version.js';

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
  const { clock, systemId } = options;
  const version = options.version ?? FLOTILLA_VERSION;
  const baseDir = options.baseDir ?? (options.configPath ? dirname(options.configPath) : process.cwd());
  const stateDir = options.stateDir ?? (options.configPath ? dirname(options.configPath) : undefined);
  const journal = stateDir === undefined ? undefined : createJobJournal(stateDir);
  let config = options.config;
  const entries = new Map<string, EntryState>();
  const running = new Map<number, RunningJob>();
  const jobPromises = new Set<Promise<void>>();
  const workerPromises = new Set<Promise<void>>();
  const slots = createSlots(config.concurrent);
  const pollController = new AbortController();
  const shutdownController = new AbortController();
  const metrics: RunnerMetrics = createRunnerMetrics({
    registry: options.registry,
    systemId,
    version,
    runningJobs: () => [...running.values()],
  });
  const logger = countingLogger(options.logger, (level) => metrics.errorsTotal.inc({ level }));
  let started = false;
  let stopPromise: Promise<void> | undefined;
  let statusServer: StatusServer | undefined;
  let watcher: ConfigWatcher | undefined;
  let consul: ConsulRegistrar | undefined;

  function entryState(entry: RunnerConfig, factory: ExecutorFactory): EntryState {
    const short = shortToken(entry.token);
    const client = createCoordinatorClient({
      url: entry.url,
      token: entry.token,
      systemId,
      userAgent: userAgent(version),
      info: withMetricsAddress(
        runnerInfo({ version, executor: factory.name, shell: factory.shell, features: factory.features }),
        statusServer?.address,
      ),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      now: () => clock.monotonic(),
      onResponse: (endpoint, method, status, seconds) => {
        const labels = { runner: short, system_id: systemId, endpoint, method: method.toLowerCase() };
        metrics.apiRequests.inc({ ...labels, status: String(status) });
        // As gitlab-runner: no latency for requests that got no answer.
        if (status !== 0)
          metrics.apiRequestDuration.observe({ ...labels, status_class: statusClass(status) }, seconds);
      },
    });
    return {
      key: `${entry.url}|${entry.token}`,
      entry,
      short,
      factory,
      client,
      controller: new AbortController(),
      workers: 0,
      limit: entry.limit,
      requestConcurrency: entry.request_concurrency,
      unhealthyCount: 0,
      parkedUntilMs: 0,
      used: new Set(),
    };
  }

  function spawnWorkers(state: EntryState): void {
    if (!started || stopPromise) return;
    while (state.workers < state.requestConcurrency) {
      const index = state.workers++;
      metrics.workerSlotOperations.inc({ operation: 'started' });
      metrics.workerSlots.inc();
      const feedLabels = { runner: state.short, runner_name: state.entry.name, system_id: systemId };
      const signal = AbortSignal.any([pollController.signal, state.controller.signal]);
      const promise = runPollWorker({
        target: state,
        index,
        slots,
        clock,
        signal,
        logger: logger.child({ runner: state.short }),
        checkIntervalMs: () => (config.check_interval > 0 ? config.check_interval : 3) * 1000,
        onJob: (payload, id) => startJob(state, payload, id),
        onFeed: (fed) => (fed ? metrics.workerFeeds : metrics.workerFeedFailures).inc(feedLabels),
        ...(options.random ? { random: options.random } : {}),
      })
        .catch((err: unknown) =>
          logger.error({ runner: state.short, err: errorMessage(err) }, 'poll worker failed'),
        )
        .finally(() => {
          state.workers--;
          metrics.workerSlotOperations.inc({ operation: 'stopped' });
          metrics.workerSlots.dec();
          workerPromises.delete(promise);
        });
      workerPromises.add(promise);
    }
  }

  function startJob(state: EntryState, payload: JobPayload, concurrentId: number): void {
    const promise = launchJob({
      state,
      payload,
      concurrentId,
      clock,
      logger,
      systemId,
      version,
      metrics,
      running,
      baseDir,
      shutdownSignal: shutdownController.signal,
      journal,
    }).finally(() => {
      slots.release(state, concurrentId);
      jobPromises.delete(promise);
      options.onJobEnded?.(payload.id);
    });
    jobPromises.add(promise);
  }

  function applyConfig(next: Config): void {
    if (config.listen_address !== next.listen_address && started) {
      logger.warn({ key: 'listen_address' }, 'config change needs a restart to apply');
    }
    config = next;
    // First, so log level and sentry_dsn of this config already apply to errors of its entries.
    options.onConfigApplied?.(next);
    slots.setConcurrent(next.concurrent);
    metrics.concurrent.set(next.concurrent);
    const seen = new Set<string>();
    for (const entry of next.runners) {
      const previous = entries.get(`${entry.url}|${entry.token}`);
      const factory =
        previous && previous.entry === entry
          ? previous.factory
          : (options.executorFactoryFor?.(entry) ??
            options.executorFactories.find((f) => f.name === entry.executor));
      if (!factory) {
        logger.error(
          { runner: shortToken(entry.token), executor: entry.executor },
          'no such executor; runner entry skipped',
        );
        continue;
      }
      const key = `${entry.url}|${entry.token}`;
      seen.add(key);
      const state = entries.get(key) ?? entryState(entry, factory);
      Object.assign(state, {
        entry,
        factory,
        limit: entry.limit,
        requestConcurrency: entry.request_concurrency,
      });
      entries.set(key, state);
      const labels = { runner: state.short, runner_name: entry.name, system_id: systemId };
      metrics.limit.set(labels, entry.limit);
      initEntryMetrics(metrics, labels);
      spawnWorkers(state);
    }
    for (const [key, state] of entries) {
      if (seen.has(key)) continue;
      state.controller.abort();
      entries.delete(key);
    }
  }

  async function start(): Promise<void> {
    if (started) return;
    started = true;
    const orphans = (await journal?.listOrphans()) ?? [];
    if (config.listen_address) {
      statusServer = await startStatusServer({
        listenAddress: config.listen_address,
        registry: options.registry,
        clock,
        runningJobs: () => [...running.values()],
        ready: () => !stopPromise,
        ...(options.discoveryTargets ? { extraTargets: options.discoveryTargets } : {}),
      });
      logger.info({ address: statusServer.address }, 'status server listening');
    }
    if (options.configPath) {
      watcher = createConfigWatcher({
        path: options.configPath,
        clock,
        logger,
        loadedMtimeMs: await fileMtimeMs(options.configPath),
        ...(options.configWatchIntervalMs !== undefined ? { intervalMs: options.configWatchIntervalMs } : {}),
        onLoaded: (loaded) => (metrics.configLoaded.inc(), applyConfig(loaded.config)),
        onRejected: () => metrics.configLoadingErrors.inc(),
      });
      void watcher.start();
    }
    metrics.configLoaded.inc();
    applyConfig(config);
    // After the config is applied, so the first registration already names the system id and runners.
    if (statusServer && config.consul)
      consul = startManagerConsul({
        config: config.consul,
        statusAddress: statusServer.address,
        registry: options.registry,
        ready: () => !stopPromise,
        ...(options.discoveryTargets ? { extraTargets: options.discoveryTargets } : {}),
        clock,
        logger,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
    if (journal && orphans.length > 0) settleOrphans(journal, orphans);
    logger.info({ runners: entries.size, concurrent: config.concurrent }, 'runner manager started');
  }

  function clientFor(url: string): CoordinatorClient {
    const state = [...entries.values()].find((s) => s.entry.url === url);
    if (state) return state.client;
    return createCoordinatorClient({
      url,
      token: '',
      systemId,
      userAgent: userAgent(version),
      info: runnerInfo({ version, executor: '', shell: '', features: {} }),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  /** Reports the jobs a previous run of this manager left running (see job-journal.ts). */
  function settleOrphans(j: JobJournal, orphans: JournalEntry[]): void {
    logger.warn(
      { jobs: orphans.map((o) => o.id) },
      'jobs left running by a previous run of this manager; reporting them',
    );
    const promise = settleOrphanedJobs({
      journal: j,
      entries: orphans,
      clientFor,
      systemId,
      logger,
      clock,
      signal: pollController.signal,
    })
      .then(() => undefined)
      .catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'reporting orphaned jobs failed'))
      .finally(() => jobPromises.delete(promise));
    jobPromises.add(promise);
  }

  let escalate: () => void = () => undefined;
  const forced = new Promise<void>((r) => (escalate = r));

  async function shutdown(): Promise<void> {
    pollController.abort();
    watcher?.stop();
    await Promise.allSettled([...workerPromises]);
    const allJobs = async (): Promise<void> => {
      while (jobPromises.size > 0) await Promise.allSettled([...jobPromises]);
    };
    const timer = new AbortController();
    const timedOut = forced.then(() =>
      clock.sleep(config.shutdown_timeout * 1000, timer.signal).then(
        () => true,
        () => false,
      ),
    );
    const timedOutFirst = await Promise.race([allJobs().then(() => false), timedOut]);
    timer.abort();
    if (timedOutFirst) logger.error({ jobs: running.size }, 'shutdown timed out');
    await consul?.stop();
    await statusServer?.close();
    logger.info('runner manager stopped');
  }

  return {
    start,
    stop({ graceful }) {
      if (!graceful) {
        shutdownController.abort();
        escalate();
      }
      stopPromise ??= shutdown();
      return stopPromise;
    },
    async reload() {
      return watcher ? watcher.reload(true) : false;
    },
    applyConfig,
    get config() {
      return config;
    },
    get statusAddress() {
      return statusServer?.address ?? null;
    },
    runningJobs: () => [...running.values()],
  };
}
