/**
 * The Store port over kysely, for SQLite and PostgreSQL alike. This class only wires the port's
 * methods to the per-table query modules (`tables/`); dialect differences live in `SqlFlavor`
 * (`flavor.ts`), implemented with each dialect's connection in `sqlite/dialect.ts` and
 * `postgres/dialect.ts`.
 */
import type { Kysely } from 'kysely';
import type { JobStatus, PipelineStatus } from '../../../api/job-status.js';
import type {
  AccessTokenRecord,
  AnnounceableJob,
  ArtifactRecord,
  DeploymentFilter,
  DeploymentPatch,
  DeploymentRecord,
  EnvironmentFilter,
  EnvironmentPatch,
  EnvironmentRecord,
  JobClaim,
  JobFilter,
  JobPatch,
  JobRecord,
  NewArtifact,
  NewDeployment,
  NewEnvironment,
  NewJob,
  NewPipeline,
  NewRunner,
  Page,
  Paged,
  PipelineFilter,
  ProjectFilter,
  PipelinePatch,
  PipelineRecord,
  ProjectPatch,
  ProjectRecord,
  RunnerMatch,
  RunnerPatch,
  RunnerRecord,
  Store,
  TraceAppendResult,
  UserFilter,
  UserRecord,
  VariableRecord,
} from '../store.js';
import type { FleetReportRecord, FleetSampleRecord, ProviderWantRecord } from '../port/runners.js';
import * as artifacts from './tables/artifacts.js';
import { claimPendingJob, claimPendingJobWithPipeline } from './tables/claim.js';
import * as deployments from './tables/deployments.js';
import * as environments from './tables/environments.js';
import * as fleetSamples from './tables/fleet-samples.js';
import * as fleets from './tables/fleets.js';
import type { SqlContext, SqlFlavor } from './flavor.js';
import * as jobs from './tables/jobs.js';
import * as pipelines from './tables/pipelines.js';
import * as projects from './tables/projects.js';
import * as runners from './tables/runners.js';
import type { Database } from './schema.js';
import type { TraceData } from '../port/traces.js';
import * as trace from './tables/trace.js';
import { appendIfAt, appendManyIfAt, appendsInOneStatement } from './tables/trace-append-one-statement.js';
import { AppendBatch } from './append-batch.js';
import type { TraceFileStore } from './tables/trace.js';
import { JobLocks, type TraceFiles } from './sqlite/trace-files.js';
import { listProjectRows } from './paging.js';
import * as users from './tables/users.js';
import * as variables from './tables/variables.js';

/** Makes committed writes durable in groups (SQLite WAL); see `sqlite/group-commit.ts`. */
export interface Durability {
  durable(): Promise<void>;
  close(): Promise<void>;
}

/** Log appends of many jobs in one statement, each one's compare-and-set kept (PostgreSQL). */
function batchedAppends(ctx: SqlContext): AppendBatch {
  return new AppendBatch({
    one: (append) => appendIfAt(ctx, append.jobId, append.offset, append.data),
    many: (appends) => appendManyIfAt(ctx, appends),
  });
}

/** What a dialect's connection adds to the store (see create-store.ts). */
export interface SqlStoreOptions {
  /** SQLite with a WAL: the group commit that `durable` waits for. */
  durability?: Durability | undefined;
  traceFiles?: TraceFiles | undefined;
  /** PostgreSQL: the claim's lane of the pool (SqlContext.claimDb). */
  claimDb?: Kysely<Database> | undefined;
  /** PostgreSQL: the pool's size (Store.connections). */
  connections?: number | undefined;
}

export class SqlStore implements Store {
  readonly #ctx: SqlContext;
  readonly #durability: Durability | undefined;
  readonly #traces: TraceFileStore | undefined;
  #closing: Promise<void> | undefined;

  readonly connections: number | undefined;

  constructor(db: Kysely<Database>, flavor: SqlFlavor, now: () => Date, options: SqlStoreOptions = {}) {
    const ctx: SqlContext = { db, claimDb: options.claimDb, flavor, now };
    this.#ctx = appendsInOneStatement(ctx) ? { ...ctx, appends: batchedAppends(ctx) } : ctx;
    this.#durability = options.durability;
    const traceFiles = options.traceFiles;
    this.#traces = traceFiles && { files: traceFiles, locks: new JobLocks() };
    this.connections = options.connections;
  }

  /**
   * Deletes rows that cascade to jobs, then the log files of those jobs, once the deletion is
   * durable (a crash before that keeps both the rows and their logs).
   */
  async #removingTraceFiles(
    column: 'project_id' | 'pipeline_id',
    id: number,
    remove: () => Promise<boolean>,
  ): Promise<boolean> {
    const traces = this.#traces;
    if (traces === undefined) return remove();
    const rows = await this.#ctx.db.selectFrom('jobs').select('id').where(column, '=', id).execute();
    const removed = await remove();
    if (removed)
      await this.#removeTraceFiles(
        traces,
        rows.map((r) => r.id),
      );
    return removed;
  }

  async #removeTraceFiles(traces: TraceFileStore, jobIds: number[]): Promise<void> {
    await this.durable();
    await traces.files.remove(jobIds);
  }

  /** Which dialect this store speaks (the coordinator's choices per dialect, logs). */
  get dialect(): SqlFlavor['name'] {
    return this.#ctx.flavor.name;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#durability?.durable().catch(() => undefined);
    await this.#ctx.db.destroy();
    await this.#durability?.close();
  }

  /**
   * PostgreSQL: a commit returns once it is durable (`synchronous_commit` on), so this resolves at
   * once. SQLite: waits for the group sync that covers every commit made so far.
   */
  durable = (): Promise<void> => this.#durability?.durable() ?? Promise.resolve();

  getUser = (id: number): Promise<UserRecord | null> => users.getUser(this.#ctx, id);
  ensureRootUser = (): Promise<UserRecord> => users.ensureRootUser(this.#ctx);
  createUser = (input: Pick<UserRecord, 'username' | 'name' | 'admin'>): Promise<UserRecord> =>
    users.createUser(this.#ctx, input);
  createAccessToken = (
    input: Omit<AccessTokenRecord, 'id' | 'createdAt' | 'revoked'>,
  ): Promise<AccessTokenRecord> => users.createAccessToken(this.#ctx, input);
  findAccessTokenByHash = (tokenHash: string): Promise<AccessTokenRecord | null> =>
    users.findAccessTokenByHash(this.#ctx, tokenHash);
  getAccessToken = (id: number): Promise<AccessTokenRecord | null> => users.getAccessToken(this.#ctx, id);
  revokeAccessToken = (id: number): Promise<AccessTokenRecord | null> =>
    users.revokeAccessToken(this.#ctx, id);
  listUsers = (filter: UserFilter, page: Page): Promise<Paged<UserRecord>> =>
    users.listUsers(this.#ctx, filter, page);

  createProject = (
    input: Omit<ProjectRecord, 'id' | 'createdAt' | 'lastActivityAt'>,
  ): Promise<ProjectRecord> => projects.createProject(this.#ctx, input);
  getProject = (id: number): Promise<ProjectRecord | null> => projects.getProject(this.#ctx, id);
  findProjectByPath = (namespacePath: string, path: string): Promise<ProjectRecord | null> =>
    projects.findProjectByPath(this.#ctx, namespacePath, path);
  listProjects = (page: Page, filter?: ProjectFilter): Promise<Paged<ProjectRecord>> =>
    projects.listProjects(this.#ctx, page, filter);
  touchProject = (id: number, at: Date): Promise<void> => projects.touchProject(this.#ctx, id, at);
  updateProject = (id: number, patch: ProjectPatch): Promise<ProjectRecord | null> =>
    projects.updateProject(this.#ctx, id, patch);
  deleteProject = (id: number): Promise<boolean> =>
    this.#removingTraceFiles('project_id', id, () => projects.deleteProject(this.#ctx, id));

  createRunner = (input: NewRunner): Promise<RunnerRecord> => runners.createRunner(this.#ctx, input);
  getRunner = (id: number): Promise<RunnerRecord | null> => runners.getRunner(this.#ctx, id);
  findRunnerByTokenHash = (tokenHash: string): Promise<RunnerRecord | null> =>
    runners.findRunnerByTokenHash(this.#ctx, tokenHash);
  listRunners = (page: Page): Promise<Paged<RunnerRecord>> => runners.listRunners(this.#ctx, page);
  updateRunner = (id: number, patch: RunnerPatch): Promise<RunnerRecord | null> =>
    runners.updateRunner(this.#ctx, id, patch);
  deleteRunner = (id: number): Promise<boolean> => runners.deleteRunner(this.#ctx, id);

  createPipeline = (
    pipeline: NewPipeline,
    newJobs: NewJob[],
  ): Promise<{ pipeline: PipelineRecord; jobs: JobRecord[] }> =>
    pipelines.createPipeline(this.#ctx, pipeline, newJobs);
  getPipeline = (id: number): Promise<PipelineRecord | null> => pipelines.getPipeline(this.#ctx, id);
  listPipelines = (projectId: number, filter: PipelineFilter, page: Page): Promise<Paged<PipelineRecord>> =>
    listProjectRows(this.#ctx.db, pipelines.PIPELINE_LISTING, projectId, filter, page);
  updatePipeline = (
    id: number,
    patch: PipelinePatch,
    expectStatuses?: PipelineStatus[],
  ): Promise<PipelineRecord | null> => pipelines.updatePipeline(this.#ctx, id, patch, expectStatuses);
  setPipelineStatus = (id: number, status: PipelineStatus, at: Date): Promise<PipelineRecord | null> =>
    pipelines.setPipelineStatus(this.#ctx, id, status, at);
  deletePipeline = (id: number): Promise<boolean> =>
    this.#removingTraceFiles('pipeline_id', id, () => pipelines.deletePipeline(this.#ctx, id));

  createJobs = (pipelineId: number, projectId: number, newJobs: NewJob[]): Promise<JobRecord[]> =>
    jobs.createJobs(this.#ctx, pipelineId, projectId, newJobs);
  getJob = (id: number): Promise<JobRecord | null> => jobs.getJob(this.#ctx, id);
  listJobs = (filter: JobFilter, page?: Page): Promise<Paged<JobRecord>> =>
    jobs.listJobs(this.#ctx, filter, page);
  listAnnounceableJobs = (limit: number): Promise<AnnounceableJob[]> => jobs.listAnnounceableJobs(this.#ctx, limit);
  listJobsUnlessUnderway = (pipelineId: number, maxStageIdx: number): Promise<JobRecord[]> =>
    jobs.listJobsUnlessUnderway(this.#ctx, pipelineId, maxStageIdx);
  findJobByTokenHash = (tokenHash: string): Promise<JobRecord | null> =>
    jobs.findJobByTokenHash(this.#ctx, tokenHash);
  updateJob = (id: number, patch: JobPatch, expectStatuses?: JobStatus[]): Promise<JobRecord | null> =>
    jobs.updateJob(this.#ctx, id, patch, expectStatuses);
  updateJobs = (ids: readonly number[], patch: JobPatch, expectStatuses: JobStatus[]): Promise<JobRecord[]> =>
    jobs.updateJobs(this.#ctx, ids, patch, expectStatuses);
  claimPendingJob = (match: RunnerMatch, claim: JobClaim): Promise<JobRecord | null> =>
    claimPendingJob(this.#ctx, match, claim);
  claimPendingJobWithPipeline = (
    match: RunnerMatch,
    claim: JobClaim,
  ): Promise<{ job: JobRecord; pipeline: PipelineRecord | undefined } | null> =>
    claimPendingJobWithPipeline(this.#ctx, match, claim);
  eraseJob = (id: number, at: Date): Promise<{ job: JobRecord; artifacts: ArtifactRecord[] } | null> => {
    const traces = this.#traces;
    if (traces === undefined) return jobs.eraseJob(this.#ctx, id, at);
    return traces.locks.run(id, async () => {
      const erased = await jobs.eraseJob(this.#ctx, id, at);
      if (erased !== null) await this.#removeTraceFiles(traces, [id]);
      return erased;
    });
  };
  touchJobs = (ids: number[], at: Date): Promise<number> => jobs.touchJobs(this.#ctx, ids, at);
  listStaleRunningJobs = (before: Date): Promise<JobRecord[]> => jobs.listStaleRunningJobs(this.#ctx, before);
  listPendingJobs = (limit: number): Promise<JobRecord[]> => jobs.listPendingJobs(this.#ctx, limit);

  appendTrace = (jobId: number, offset: number, data: TraceData): Promise<TraceAppendResult> =>
    trace.appendTrace(this.#ctx, this.#traces, jobId, offset, data);
  readTrace = (jobId: number, offset?: number, limit?: number): Promise<Buffer> =>
    trace.readTrace(this.#ctx, this.#traces, jobId, offset, limit);

  addArtifact = (input: NewArtifact): Promise<ArtifactRecord> => artifacts.addArtifact(this.#ctx, input);
  listArtifacts = (jobId: number): Promise<ArtifactRecord[]> => artifacts.listArtifacts(this.#ctx, jobId);

  listVariables = (projectId: number): Promise<VariableRecord[]> =>
    variables.listVariables(this.#ctx, projectId);
  getVariable = (projectId: number, key: string, environmentScope?: string): Promise<VariableRecord | null> =>
    variables.getVariable(this.#ctx, projectId, key, environmentScope);
  createVariable = (input: VariableRecord): Promise<VariableRecord> =>
    variables.createVariable(this.#ctx, input);
  updateVariable = (
    projectId: number,
    key: string,
    environmentScope: string,
    patch: Partial<Omit<VariableRecord, 'projectId' | 'key'>>,
  ): Promise<VariableRecord | null> =>
    variables.updateVariable(this.#ctx, projectId, key, environmentScope, patch);
  deleteVariable = (projectId: number, key: string, environmentScope: string): Promise<boolean> =>
    variables.deleteVariable(this.#ctx, projectId, key, environmentScope);

  findOrCreateEnvironment = (input: NewEnvironment): Promise<EnvironmentRecord> =>
    environments.findOrCreateEnvironment(this.#ctx, input);
  getEnvironment = (id: number): Promise<EnvironmentRecord | null> =>
    environments.getEnvironment(this.#ctx, id);
  updateEnvironment = (id: number, patch: EnvironmentPatch): Promise<EnvironmentRecord | null> =>
    environments.updateEnvironment(this.#ctx, id, patch);
  listEnvironments = (
    projectId: number,
    filter: EnvironmentFilter,
    page: Page,
  ): Promise<Paged<EnvironmentRecord>> => environments.listEnvironments(this.#ctx, projectId, filter, page);
  createDeployment = (input: NewDeployment): Promise<DeploymentRecord> =>
    deployments.createDeployment(this.#ctx, input);
  updateDeployment = (id: number, patch: DeploymentPatch): Promise<DeploymentRecord | null> =>
    deployments.updateDeployment(this.#ctx, id, patch);
  findDeploymentByJob = (jobId: number): Promise<DeploymentRecord | null> =>
    deployments.findDeploymentByJob(this.#ctx, jobId);
  listDeployments = (
    projectId: number,
    filter: DeploymentFilter,
    page: Page,
  ): Promise<Paged<DeploymentRecord>> =>
    listProjectRows(this.#ctx.db, deployments.DEPLOYMENT_LISTING, projectId, filter, page);

  saveFleetReport = (input: FleetReportRecord): Promise<void> => fleets.saveFleetReport(this.#ctx, input);
  listFleetReports = (runnerId?: number): Promise<FleetReportRecord[]> =>
    fleets.listFleetReports(this.#ctx, runnerId);
  setProviderWant = (input: ProviderWantRecord): Promise<ProviderWantRecord> =>
    fleets.setProviderWant(this.#ctx, input);
  listProviderWants = (runnerId: number): Promise<ProviderWantRecord[]> =>
    fleets.listProviderWants(this.#ctx, runnerId);
  addFleetSample = (sample: FleetSampleRecord, keepFromSlot: number): Promise<void> =>
    fleetSamples.addFleetSample(this.#ctx, sample, keepFromSlot);
  listFleetSamples = (fromSlot: number): Promise<FleetSampleRecord[]> =>
    fleetSamples.listFleetSamples(this.#ctx, fromSlot);
}
