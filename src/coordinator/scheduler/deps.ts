import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { ArtifactStorage } from '../artifacts/artifact-storage.js';
import type { CoordinatorConfig } from '../config.js';
import type { Store } from '../store/store.js';
import type { RepositoryReader } from './repository.js';
import type { RunnerQueue } from './queue/runner-queue.js';

/** What the scheduler's functions share; built once by the coordinator app. */
export interface SchedulerDeps {
  store: Store;
  repos: RepositoryReader;
  queue: RunnerQueue;
  clock: Clock;
  logger: Logger;
  config: CoordinatorConfig;
  /** Artifact files, for reports the coordinator reads (dotenv). */
  artifacts?: ArtifactStorage;
  /** Called after job statuses change, for metrics. */
  onJobStatus?: (status: string, previous: string) => void;
  /**
   * Updates of running jobs before new work (claim-gate.ts) and quiet successes finished outside
   * the pipeline's lock; default true. The coordinator turns both off on PostgreSQL, where they
   * cut the p99 of updates but cost jobs/s at 1,000 clients (docs/benchmarks.md §3h).
   */
  prioritiseUpdates?: boolean;
}
