/**
 * The runner manager's start and shutdown (see manager.ts): status server, config watcher, Consul
 * registration, the orphaned jobs of a previous run, and the escalating shutdown.
 */
import { createConfigWatcher, fileMtimeMs } from './config/watch.js';
import { errorMessage } from '../shared/errors.js';
import { createCoordinatorClient, type CoordinatorClient } from './coordinator-client.js';
import { startManagerConsul } from './consul-registration.js';
import { settleOrphanedJobs, type JobJournal, type JournalEntry } from './job-journal.js';
import { applyConfig } from './manager-entries.js';
import type { ManagerState } from './manager-state.js';
import { startStatusServer } from './status-server.js';
import { runnerInfo, userAgent } from './version.js';

async function startStatus(m: ManagerState): Promise<void> {
  const { options } = m;
  if (!m.config.listen_address) return;
  m.statusServer = await startStatusServer({
    listenAddress: m.config.listen_address,
    registry: options.registry,
    clock: m.clock,
    runningJobs: () => [...m.running.values()],
    ready: () => !m.stopPromise,
    ...(options.discoveryTargets ? { extraTargets: options.discoveryTargets } : {}),
  });
  m.logger.info({ address: m.statusServer.address }, 'status server listening');
}

async function startWatcher(m: ManagerState): Promise<void> {
  const { options, metrics } = m;
  if (!options.configPath) return;
  m.watcher = createConfigWatcher({
    path: options.configPath,
    clock: m.clock,
    logger: m.logger,
    loadedMtimeMs: await fileMtimeMs(options.configPath),
    ...(options.configWatchIntervalMs !== undefined ? { intervalMs: options.configWatchIntervalMs } : {}),
    onLoaded: (loaded) => (metrics.configLoaded.inc(), applyConfig(m, loaded.config)),
    onRejected: () => metrics.configLoadingErrors.inc(),
  });
  void m.watcher.start();
}

function startConsul(m: ManagerState): void {
  const { options, statusServer, config } = m;
  if (!statusServer || !config.consul) return;
  m.consul = startManagerConsul({
    config: config.consul,
    statusAddress: statusServer.address,
    registry: options.registry,
    ready: () => !m.stopPromise,
    ...(options.discoveryTargets ? { extraTargets: options.discoveryTargets } : {}),
    clock: m.clock,
    logger: m.logger,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

export async function startManager(m: ManagerState): Promise<void> {
  if (m.started) return;
  m.started = true;
  const orphans = (await m.journal?.listOrphans()) ?? [];
  await startStatus(m);
  await startWatcher(m);
  m.metrics.configLoaded.inc();
  applyConfig(m, m.config);
  // After the config is applied, so the first registration already names the system id and runners.
  startConsul(m);
  if (m.journal && orphans.length > 0) settleOrphans(m, m.journal, orphans);
  m.logger.info({ runners: m.entries.size, concurrent: m.config.concurrent }, 'runner manager started');
}

function clientFor(m: ManagerState, url: string): CoordinatorClient {
  const state = [...m.entries.values()].find((s) => s.entry.url === url);
  if (state) return state.client;
  return createCoordinatorClient({
    url,
    token: '',
    systemId: m.systemId,
    userAgent: userAgent(m.version),
    info: runnerInfo({ version: m.version, executor: '', shell: '', features: {} }),
    ...(m.options.fetch ? { fetch: m.options.fetch } : {}),
  });
}

/** Reports the jobs a previous run of this manager left running (see job-journal.ts). */
function settleOrphans(m: ManagerState, j: JobJournal, orphans: JournalEntry[]): void {
  const { logger } = m;
  logger.warn(
    { jobs: orphans.map((o) => o.id) },
    'jobs left running by a previous run of this manager; reporting them',
  );
  const promise = settleOrphanedJobs({
    journal: j,
    entries: orphans,
    clientFor: (url) => clientFor(m, url),
    systemId: m.systemId,
    logger,
    clock: m.clock,
    signal: m.pollController.signal,
  })
    .then(() => undefined)
    .catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'reporting orphaned jobs failed'))
    .finally(() => m.jobPromises.delete(promise));
  m.jobPromises.add(promise);
}

export async function shutdownManager(m: ManagerState): Promise<void> {
  m.pollController.abort();
  m.watcher?.stop();
  await Promise.allSettled([...m.workerPromises]);
  const allJobs = async (): Promise<void> => {
    while (m.jobPromises.size > 0) await Promise.allSettled([...m.jobPromises]);
  };
  const timer = new AbortController();
  const timedOut = m.forced.then(() =>
    m.clock.sleep(m.config.shutdown_timeout * 1000, timer.signal).then(
      () => true,
      () => false,
    ),
  );
  const timedOutFirst = await Promise.race([allJobs().then(() => false), timedOut]);
  timer.abort();
  if (timedOutFirst) m.logger.error({ jobs: m.running.size }, 'shutdown timed out');
  await m.consul?.stop();
  await m.statusServer?.close();
  m.logger.info('runner manager stopped');
}
