/** The coordinator's Prometheus metrics, on an injected registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

import { jobMatchesRunner, type QueuedJobInfo, type QueueMatch } from './scheduler/queue/runner-queue.js';
import type { RunnerType } from './store/store.js';

/** GitLab's runner types, the `runner_type` label values. */
export const RUNNER_TYPES: readonly RunnerType[] = ['instance_type', 'group_type', 'project_type'];
/** The most pending jobs read per scrape for the queue depth (it saturates there). */
export const QUEUE_DEPTH_CAP = 5_000;

export interface CoordinatorMetrics {
  httpRequests: Counter<'route' | 'method' | 'status'>;
  httpDuration: Histogram<'route' | 'method'>;
  jobsByStatus: Counter<'status'>;
  queueDuration: Histogram<'runner_type'>;
  longPollWaiters: Gauge;
  claimsWaiting: Gauge;
  traceBytes: Counter;
  pipelinesCreated: Counter<'source' | 'status'>;
  /** GitLab's `gitlab_ci_queue_retrieval_duration_seconds`: time to find (claim) a job for a runner. */
  queueRetrieval: Histogram<'runner_type'>;
}

export function createCoordinatorMetrics(registry: Registry): CoordinatorMetrics {
  const registers = [registry];
  return {
    httpRequests: new Counter({
      name: 'flotilla_coordinator_http_requests_total',
      help: 'HTTP requests handled, by route, method and status code',
      labelNames: ['route', 'method', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'flotilla_coordinator_http_request_duration_seconds',
      help: 'HTTP request duration (long polls included)',
      labelNames: ['route', 'method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    jobsByStatus: new Counter({
      name: 'flotilla_coordinator_job_transitions_total',
      help: 'Job status transitions, by the status entered',
      labelNames: ['status'],
      registers,
    }),
    queueDuration: new Histogram({
      name: 'flotilla_coordinator_job_queue_duration_seconds',
      help: 'Time jobs spent pending before a runner took them',
      labelNames: ['runner_type'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    }),
    longPollWaiters: new Gauge({
      name: 'flotilla_coordinator_long_poll_waiters',
      help: 'POST /jobs/request calls currently held open',
      registers,
    }),
    claimsWaiting: new Gauge({
      name: 'flotilla_coordinator_claims_waiting',
      help: 'POST /jobs/request calls waiting for their claim to start (updates of running jobs go first)',
      registers,
    }),
    traceBytes: new Counter({
      name: 'flotilla_coordinator_trace_bytes_total',
      help: 'Job log bytes appended',
      registers,
    }),
    pipelinesCreated: new Counter({
      name: 'flotilla_coordinator_pipelines_created_total',
      help: 'Pipelines created, by source and initial status',
      labelNames: ['source', 'status'],
      registers,
    }),
    queueRetrieval: new Histogram({
      name: 'gitlab_ci_queue_retrieval_duration_seconds',
      help: 'Time it takes to execute a SQL query to retrieve builds queue',
      labelNames: ['runner_type'],
      buckets: [0.01, 0.05, 0.1, 0.3, 0.5, 1, 5, 10, 15, 20, 30, 60],
      registers,
    }),
  };
}

/**
 * Pending jobs by the runner types that may take them: a job counts for a type when at least one
 * active (not paused) runner of that type matches it. Every type is present (0 when none). PURE.
 */
export function queueDepthByRunnerType(
  pending: readonly QueuedJobInfo[],
  runners: readonly (QueueMatch & { runnerType: RunnerType; paused: boolean })[],
): Record<RunnerType, number> {
  const depth = { instance_type: 0, group_type: 0, project_type: 0 };
  for (const type of RUNNER_TYPES) {
    const active = runners.filter((r) => r.runnerType === type && !r.paused);
    depth[type] = pending.filter((job) => active.some((r) => jobMatchesRunner(job, r))).length;
  }
  return depth;
}

/** What the scrape-time coordinator gauges read (the store and the manager directory). */
export interface QueueMetricSources {
  /** Counts jobs in a status (not retried ones). */
  countJobs(status: 'pending' | 'running'): Promise<number>;
  /** Seconds the oldest pending job has waited, 0 when none is pending. */
  oldestPendingAgeSeconds(): Promise<number>;
  /** Runner managers listed for service discovery. */
  runnerManagers(): number;
  /** Pending jobs by the runner types that may take them (see queueDepthByRunnerType). */
  queueDepth(): Promise<Record<RunnerType, number>>;
}

/**
 * Gauges computed when Prometheus scrapes (two small store queries per scrape), registered once
 * per registry: the queue depth, the oldest pending job's age (what "no job picked up for N minutes
 * while jobs are pending" alerts on), running jobs and the managers known for discovery.
 */
export function createQueueMetrics(registry: Registry, sources: QueueMetricSources): void {
  if (registry.getSingleMetric('flotilla_coordinator_jobs_pending')) return;
  const registers = [registry];
  new Gauge({
    name: 'flotilla_coordinator_jobs_pending',
    help: 'Jobs waiting for a runner (status pending)',
    registers,
    async collect() {
      this.set(await sources.countJobs('pending'));
    },
  });
  new Gauge({
    name: 'flotilla_coordinator_jobs_running',
    help: 'Jobs a runner is running (status running)',
    registers,
    async collect() {
      this.set(await sources.countJobs('running'));
    },
  });
  new Gauge({
    name: 'flotilla_coordinator_oldest_pending_job_age_seconds',
    help: 'How long the oldest pending job has waited (0 when none is pending)',
    registers,
    async collect() {
      this.set(await sources.oldestPendingAgeSeconds());
    },
  });
  new Gauge({
    name: 'flotilla_coordinator_queue_depth',
    help: 'Pending jobs that active runners of each runner_type may take',
    labelNames: ['runner_type'],
    registers,
    async collect() {
      const depth = await sources.queueDepth();
      for (const runner_type of RUNNER_TYPES) this.set({ runner_type }, depth[runner_type]);
    },
  });
  new Gauge({
    name: 'flotilla_coordinator_runner_managers',
    help: 'Runner managers that reported a metrics address recently (service discovery targets)',
    registers,
    collect() {
      this.set(sources.runnerManagers());
    },
  });
}
