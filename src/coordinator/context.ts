import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { ArtifactStorage } from './artifacts/artifact-storage.js';
import type { CoordinatorConfig } from './config.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { RepositoryReader } from './scheduler/repository.js';
import type { Scheduler } from './scheduler/scheduler.js';
import type { Store } from './store/store.js';

export interface RefUpdate {
  ref: string;
  before: string;
  after: string;
}

export interface ServeGitOptions {
  fullPath: string;
  pathInfo: string;
  remoteUser: string;
  allowPush: boolean;
  onPush?: (updates: RefUpdate[]) => void | Promise<void>;
}

/** Git hosting as the coordinator uses it (implemented in src/coordinator/git). */
export interface GitHosting extends RepositoryReader {
  createRepository(fullPath: string, defaultBranch: string): Promise<void>;
  serveHttp(req: IncomingMessage, res: ServerResponse, opts: ServeGitOptions): Promise<void>;
}

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
}
