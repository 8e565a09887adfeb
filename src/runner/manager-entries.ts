/**
 * The runner manager's `[[runners]]` entries (see manager.ts): each entry's coordinator client and
 * poll workers, the jobs they start, and applying a (re)loaded config to them.
 */
import type { JobPayload } from '../api/runner-api.js';
import type { Config, RunnerConfig } from './config/schema.js';
import type { AnnouncementSink, ExecutorFactory } from '../executors/executor.js';
import { errorMessage } from '../shared/errors.js';
import { createCoordinatorClient, type CoordinatorClient } from './coordinator-client.js';
import { launchJob, type EntryState } from './job-launcher.js';
import type { ManagerState } from './manager-state.js';
import { initEntryMetrics, statusClass } from './metrics.js';
import { runPollWorker } from './poller.js';
import { withMetricsAddress } from './status-server.js';
import { runnerInfo, shortToken, userAgent } from './version.js';

/** The client, its job requests' announced jobs delivered to `sink`. */
function announcing(client: CoordinatorClient, sink: AnnouncementSink): CoordinatorClient {
  return {
    ...client,
    async requestJob(signal) {
      const r = await client.requestJob(signal);
      if (r.kind === 'job' || r.kind === 'none') sink.jobs(r.announced);
      if (r.kind === 'job' && r.jobAnnounced) sink.jobAnnounced(r.payload.id);
      return r;
    },
  };
}

function entryState(m: ManagerState, entry: RunnerConfig, factory: ExecutorFactory): EntryState {
  const { systemId, version, metrics } = m;
  const short = shortToken(entry.token);
  const base = createCoordinatorClient({
    announce: factory.announcements !== undefined,
    url: entry.url,
    token: entry.token,
    systemId,
    userAgent: userAgent(version),
    info: withMetricsAddress(
      runnerInfo({ version, executor: factory.name, shell: factory.shell, features: factory.features }),
      m.statusServer?.address,
    ),
    ...(m.options.fetch ? { fetch: m.options.fetch } : {}),
    now: () => m.clock.monotonic(),
    onResponse: (endpoint, method, status, seconds) => {
      const labels = { runner: short, system_id: systemId, endpoint, method: method.toLowerCase() };
      metrics.apiRequests.inc({ ...labels, status: String(status) });
      // As gitlab-runner: no latency for requests that got no answer.
      if (status !== 0)
        metrics.apiRequestDuration.observe({ ...labels, status_class: statusClass(status) }, seconds);
    },
  });
  const client = factory.announcements ? announcing(base, factory.announcements) : base;
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

function spawnWorker(m: ManagerState, state: EntryState): void {
  const { metrics, systemId, logger } = m;
  const index = state.workers++;
  metrics.workerSlotOperations.inc({ operation: 'started' });
  metrics.workerSlots.inc();
  const feedLabels = { runner: state.short, runner_name: state.entry.name, system_id: systemId };
  const signal = AbortSignal.any([m.pollController.signal, state.controller.signal]);
  const promise = runPollWorker({
    target: state,
    index,
    slots: m.slots,
    clock: m.clock,
    signal,
    logger: logger.child({ runner: state.short }),
    checkIntervalMs: () => (m.config.check_interval > 0 ? m.config.check_interval : 3) * 1000,
    onJob: (payload, id) => startJob(m, state, payload, id),
    onFeed: (fed) => (fed ? metrics.workerFeeds : metrics.workerFeedFailures).inc(feedLabels),
    ...(m.options.random ? { random: m.options.random } : {}),
  })
    .catch((err: unknown) =>
      logger.error({ runner: state.short, err: errorMessage(err) }, 'poll worker failed'),
    )
    .finally(() => {
      state.workers--;
      metrics.workerSlotOperations.inc({ operation: 'stopped' });
      metrics.workerSlots.dec();
      m.workerPromises.delete(promise);
    });
  m.workerPromises.add(promise);
}

function spawnWorkers(m: ManagerState, state: EntryState): void {
  if (!m.started || m.stopPromise) return;
  while (state.workers < state.requestConcurrency) spawnWorker(m, state);
}

function startJob(m: ManagerState, state: EntryState, payload: JobPayload, concurrentId: number): void {
  const promise = launchJob({
    state,
    payload,
    concurrentId,
    clock: m.clock,
    logger: m.logger,
    systemId: m.systemId,
    version: m.version,
    metrics: m.metrics,
    running: m.running,
    baseDir: m.baseDir,
    shutdownSignal: m.shutdownController.signal,
    journal: m.journal,
  }).finally(() => {
    m.slots.release(state, concurrentId);
    m.jobPromises.delete(promise);
    m.options.onJobEnded?.(payload.id);
  });
  m.jobPromises.add(promise);
}

/** The entry's executor factory: kept while the entry is unchanged, else built anew. */
function factoryFor(m: ManagerState, entry: RunnerConfig): ExecutorFactory | undefined {
  const previous = m.entries.get(`${entry.url}|${entry.token}`);
  if (previous && previous.entry === entry) return previous.factory;
  return (
    m.options.executorFactoryFor?.(entry) ??
    m.options.executorFactories.find((f) => f.name === entry.executor)
  );
}

/** Applies one entry of the config; returns its key, or undefined when it was skipped. */
function applyEntry(m: ManagerState, entry: RunnerConfig): string | undefined {
  const factory = factoryFor(m, entry);
  if (!factory) {
    m.logger.error(
      { runner: shortToken(entry.token), executor: entry.executor },
      'no such executor; runner entry skipped',
    );
    return undefined;
  }
  const key = `${entry.url}|${entry.token}`;
  const state = m.entries.get(key) ?? entryState(m, entry, factory);
  Object.assign(state, {
    entry,
    factory,
    limit: entry.limit,
    requestConcurrency: entry.request_concurrency,
  });
  m.entries.set(key, state);
  const labels = { runner: state.short, runner_name: entry.name, system_id: m.systemId };
  m.metrics.limit.set(labels, entry.limit);
  initEntryMetrics(m.metrics, labels);
  spawnWorkers(m, state);
  return key;
}

export function applyConfig(m: ManagerState, next: Config): void {
  if (m.config.listen_address !== next.listen_address && m.started) {
    m.logger.warn({ key: 'listen_address' }, 'config change needs a restart to apply');
  }
  m.config = next;
  // First, so log level and sentry_dsn of this config already apply to errors of its entries.
  m.options.onConfigApplied?.(next);
  m.slots.setConcurrent(next.concurrent);
  m.metrics.concurrent.set(next.concurrent);
  const seen = new Set<string>();
  for (const entry of next.runners) {
    const key = applyEntry(m, entry);
    if (key !== undefined) seen.add(key);
  }
  for (const [key, state] of m.entries) {
    if (seen.has(key)) continue;
    state.controller.abort();
    m.entries.delete(key);
  }
}
