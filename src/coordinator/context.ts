import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { ArtifactStorage } from './artifacts/artifact-storage.js';
import type { CoordinatorConfig } from './config.js';
import type { GitHost } from './git/git-host.js';
import type { RepositoryApi } from './git/repository-api.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { RepositoryReader } from './scheduler/repository.js';
import type { Scheduler } from './scheduler/scheduler.js';
import type { Store } from './store/store.js';

/** Git hosting as the coordinator uses it (implemented in src/coordinator/git). */
export type GitHosting = RepositoryReader &
  RepositoryApi &
  Pick<GitHost, 'createRepository' | 'deleteRepository' | 'deletePipelineRef' | 'serveHttp'>;

/** Everything route handlers use; built once by `buildCoordinator`. */
export interface CoordinatorContext {
  store: Store;
  scheduler: Scheduler;
  git: GitHosting;
  artifacts: ArtifactStorage;
  config: CoordinatorConfig;
  clock: Clock;
  logger: Logger;
  metrics: CoordinatorMetrics;
  /** Jobs whose log someone read recently (job id → time), for the trace update interval. */
  watchedTraces: Map<number, number>;
  /** Signs web UI session cookies (`CoordinatorConfig.sessionSecret`, else random per process). */
  sessionSecret: Buffer;
}
