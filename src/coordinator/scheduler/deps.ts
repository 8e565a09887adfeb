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
   * Updates of running jobs before new work (claim-gate.ts); default true. The coordinator turns
   * it off on PostgreSQL, where the store's connection lanes give updates the same priority
   * without holding claims back (postgres/lane-pool.ts, docs/benchmarks.md §3h, §3j).
   */
  prioritiseUpdates?: boolean;
  /**
   * Claims in flight at most when `prioritiseUpdates` is false (ClaimGate.bounded): the store's
   * connections (PostgreSQL's pool size); default BOUNDED_CLAIMS_IN_FLIGHT.
   */
  claimsInFlight?: number | undefined;
  /** Quiet successes finished outside the pipeline's lock (scheduler.ts); default true. */
  finishQuietly?: boolean;
}
