/**
 * The runner manager's Prometheus metrics, named as gitlab-runner names them, registered on an
 * injected Registry (never the global one). `gitlab_runner_jobs` is computed at scrape time from the
 * running jobs. Node's process metrics (`process_*`, `nodejs_*`, unprefixed as gitlab-runner's
 * Go ones are) are registered too, once per registry.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';

import type { RunningJob } from './running-jobs.js';

const RUNNER_LABELS = ['runner', 'runner_name', 'system_id'] as const;

export interface RunnerMetrics {
  jobsTotal: Counter<(typeof RUNNER_LABELS)[number]>;
  concurrent: Gauge;
  limit: Gauge<(typeof RUNNER_LABELS)[number]>;
  errorsTotal: Counter<'level'>;
  apiRequests: Counter<'runner' | 'system_id' | 'endpoint' | 'status' | 'method'>;
  jobDuration: Histogram<(typeof RUNNER_LABELS)[number]>;
  queueDuration: Histogram<(typeof RUNNER_LABELS)[number]>;
  stageDuration: Histogram<(typeof RUNNER_LABELS)[number] | 'stage'>;
  configLoaded: Counter;
  configLoadingErrors: Counter;
  failedJobs: Counter<'runner' | 'runner_name' | 'failure_reason'>;
  apiRequestDuration: Histogram<'runner' | 'system_id' | 'endpoint' | 'status_class' | 'method'>;
  workerFeeds: Counter<(typeof RUNNER_LABELS)[number]>;
  workerFeedFailures: Counter<(typeof RUNNER_LABELS)[number]>;
  workerSlots: Gauge;
  workerSlotOperations: Counter<'operation'>;
  workerProcessingFailures: Counter<(typeof RUNNER_LABELS)[number] | 'failure_type'>;
}

/** gitlab-runner's `failure_type` values of `gitlab_runner_worker_processing_failures_total`. */
export const WORKER_FAILURE_TYPES = ['other', 'no_free_executor', 'job_failure'] as const;

/** gitlab-runner's `status_class` of an HTTP status (`2xx`, ...; `unknown` below 100). */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'unknown';
}

/**
 * Sets every per-entry series of an entry to 0 (as gitlab-runner does when it starts), so rates
 * and alerts see the series before the first event.
 */
export function initEntryMetrics(
  metrics: RunnerMetrics,
  labels: Record<(typeof RUNNER_LABELS)[number], string>,
): void {
  metrics.workerFeeds.inc(labels, 0);
  metrics.workerFeedFailures.inc(labels, 0);
  for (const failure_type of WORKER_FAILURE_TYPES)
    metrics.workerProcessingFailures.inc({ ...labels, failure_type }, 0);
}

export interface RunnerMetricsOptions {
  registry: Registry;
  systemId: string;
  version: string;
  runningJobs(): readonly RunningJob[];
}

/** `gitlab_runner_jobs` (counted from the running jobs at scrape time) and `gitlab_runner_version_info`. */
function registerInfoGauges(options: RunnerMetricsOptions, registers: Registry[]): void {
  const { systemId } = options;
  new Gauge({
    name: 'gitlab_runner_jobs',
    help: 'The current number of running builds.',
    labelNames: [...RUNNER_LABELS, 'state', 'stage', 'executor_stage'],
    registers,
    collect() {
      this.reset();
      for (const job of options.runningJobs()) {
        this.inc({
          runner: job.shortToken,
          runner_name: job.runnerName,
          system_id: systemId,
          state: 'running',
          stage: job.stage,
          executor_stage: job.executorStage,
        });
      }
    },
  });
  const versionInfo = new Gauge({
    name: 'gitlab_runner_version_info',
    help: 'Runner version information.',
    labelNames: ['name', 'version', 'revision', 'os', 'architecture'],
    registers,
  });
  versionInfo.set(
    {
      name: 'flotilla',
      version: options.version,
      revision: 'unknown',
      os: process.platform,
      architecture: process.arch,
    },
    1,
  );
}

export function createRunnerMetrics(options: RunnerMetricsOptions): RunnerMetrics {
  const registers = [options.registry];
  if (!options.registry.getSingleMetric('process_cpu_seconds_total'))
    collectDefaultMetrics({ register: options.registry });
  registerInfoGauges(options, registers);
  return {
    jobsTotal: new Counter({
      name: 'gitlab_runner_jobs_total',
      help: 'Total jobs executed.',
      labelNames: RUNNER_LABELS,
      registers,
    }),
    concurrent: new Gauge({
      name: 'gitlab_runner_concurrent',
      help: 'The current value of concurrent setting.',
      registers,
    }),
    limit: new Gauge({
      name: 'gitlab_runner_limit',
      help: 'The current value of limit setting.',
      labelNames: RUNNER_LABELS,
      registers,
    }),
    errorsTotal: new Counter({
      name: 'gitlab_runner_errors_total',
      help: 'The number of caught errors.',
      labelNames: ['level'],
      registers,
    }),
    apiRequests: new Counter({
      name: 'gitlab_runner_api_request_statuses_total',
      help: 'The total number of api requests, partitioned by runner, system_id, endpoint, status and method.',
      labelNames: ['runner', 'system_id', 'endpoint', 'status', 'method'],
      registers,
    }),
    jobDuration: new Histogram({
      name: 'gitlab_runner_job_duration_seconds',
      help: 'Histogram of job durations.',
      labelNames: RUNNER_LABELS,
      buckets: [30, 60, 300, 600, 1800, 3600, 7200, 10800, 18000, 36000],
      registers,
    }),
    queueDuration: new Histogram({
      name: 'gitlab_runner_job_queue_duration_seconds',
      help: 'A histogram representing job queue duration.',
      labelNames: RUNNER_LABELS,
      buckets: [1, 3, 10, 30, 60, 120, 300, 900, 1800, 3600],
      registers,
    }),
    stageDuration: new Histogram({
      name: 'gitlab_runner_job_stage_duration_seconds',
      help: 'Histogram of job stage durations.',
      labelNames: [...RUNNER_LABELS, 'stage'],
      buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600],
      registers,
    }),
    configLoaded: new Counter({
      name: 'gitlab_runner_configuration_loaded_total',
      help: 'Total number of times the configuration file was loaded.',
      registers,
    }),
    configLoadingErrors: new Counter({
      name: 'gitlab_runner_configuration_loading_error_total',
      help: 'Total number of times the configuration file was not loaded.',
      registers,
    }),
    ...workerMetrics(registers),
  };
}

/** The failure, API latency and worker series (gitlab-runner's network/ and commands/multi.go names). */
function workerMetrics(
  registers: Registry[],
): Pick<
  RunnerMetrics,
  | 'failedJobs'
  | 'apiRequestDuration'
  | 'workerFeeds'
  | 'workerFeedFailures'
  | 'workerSlots'
  | 'workerSlotOperations'
  | 'workerProcessingFailures'
> {
  const slotOperations = new Counter({
    name: 'gitlab_runner_worker_slot_operations_total',
    help: 'Total number of runner workers slot operations (starting and stopping slots).',
    labelNames: ['operation'],
    registers,
  });
  for (const operation of ['started', 'stopped']) slotOperations.inc({ operation }, 0);
  return {
    failedJobs: new Counter({
      name: 'gitlab_runner_failed_jobs_total',
      help: 'Total number of failed jobs.',
      labelNames: ['runner', 'runner_name', 'failure_reason'],
      registers,
    }),
    apiRequestDuration: new Histogram({
      name: 'gitlab_runner_api_request_duration_seconds',
      help: 'Latency histogram of API requests, partitioned by runner, system_id, endpoint, status_class and method.',
      labelNames: ['runner', 'system_id', 'endpoint', 'status_class', 'method'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    workerFeeds: new Counter({
      name: 'gitlab_runner_worker_feeds_total',
      help: 'Total number of times that runner worker is fed to the main loop.',
      labelNames: RUNNER_LABELS,
      registers,
    }),
    workerFeedFailures: new Counter({
      name: 'gitlab_runner_worker_feed_failures_total',
      help: 'Total number of times that runner worker feeding have failed.',
      labelNames: RUNNER_LABELS,
      registers,
    }),
    workerSlots: new Gauge({
      name: 'gitlab_runner_worker_slots_number',
      help: 'Current number of runner worker slots.',
      registers,
    }),
    workerSlotOperations: slotOperations,
    workerProcessingFailures: new Counter({
      name: 'gitlab_runner_worker_processing_failures_total',
      help: 'Total number of failures when processing runner worker.',
      labelNames: ['failure_type', ...RUNNER_LABELS],
      registers,
    }),
  };
}
