/**
 * The coordinator's storage port. The domain (scheduler, routes) talks only to this interface;
 * adapters (`sql/`: SQLite, PostgreSQL) own their connections and transactions, not shown here.
 *
 * `Store` is the intersection of one port per aggregate (`port/`): accounts, projects (with their
 * CI variables), runners (with their fleet reports), pipelines (with their jobs), artifacts,
 * traces, environments (with their deployments). Code that needs one aggregate takes that port.
 *
 * Contract every adapter meets (`test/kits/coordinator/store/conformance.ts`, once per dialect):
 * - Every method is safe to call concurrently from one process; `claimPendingJob`,
 *   `updateJob(..., expect)` and `updatePipeline(..., expect)` are atomic compare-and-set
 *   operations, so several coordinators on one PostgreSQL never hand the same job to two runners.
 * - `createPipeline` writes the pipeline and all its jobs atomically.
 * - `appendTrace` appends only when `offset` equals the stored size; an acknowledged append is durable.
 * - Dates are returned as `Date`; JSON fields round-trip exactly.
 * - `close()` is idempotent.
 */
import type { AccountStore } from './port/accounts.js';
import type { ArtifactStore } from './port/artifacts.js';
import type { EnvironmentStore } from './port/environments.js';
import type { PipelineStore } from './port/pipelines.js';
import type { ProjectStore } from './port/projects.js';
import type { RunnerStore } from './port/runners.js';
import type { TraceStore } from './port/traces.js';

export type * from './port/accounts.js';
export type * from './port/artifacts.js';
export type * from './port/environments.js';
export type * from './port/paging.js';
export type * from './port/projects.js';
export type * from './port/runners.js';
export { jobKindOf } from './port/pipelines.js';
export type * from './port/pipelines.js';
export { traceDataLength } from './port/traces.js';
export type * from './port/traces.js';

/** The store as a whole: its lifetime and durability. */
export interface StoreLifecycle {
  /** The database behind the store: SQLite (one process owns the file) or PostgreSQL. */
  readonly dialect: 'sqlite' | 'postgres';
  /** Connections the store uses at once at most (PostgreSQL's pool); undefined for SQLite's one. */
  readonly connections?: number | undefined;
  close(): Promise<void>;
  /**
   * Resolves once every write this store has committed so far is on stable storage. Call it
   * before acknowledging a write to a client: on SQLite, commits are synced in groups (one WAL
   * sync for all the commits made while the previous one ran), not one by one.
   */
  durable(): Promise<void>;
}

export type Store = StoreLifecycle &
  AccountStore &
  ProjectStore &
  RunnerStore &
  PipelineStore &
  ArtifactStore &
  TraceStore &
  EnvironmentStore;
