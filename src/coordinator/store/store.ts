/**
 * The coordinator's storage port. The domain (scheduler, routes) talks only to this interface;
 * adapters (`sql/`: SQLite, PostgreSQL) own their connections and transactions, not shown here.
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
import type { FailureReason, JobStatus, PipelineStatus } from '../../api/job-status.js';
import type { JobDefinition } from '../../pipeline/types.js';
import type {
  DeploymentFilter,
  DeploymentPatch,
  DeploymentRecord,
  EnvironmentFilter,
  EnvironmentPatch,
  EnvironmentRecord,
  NewDeployment,
  NewEnvironment,
} from './environment-records.js';
import type { FleetStore } from './fleet-records.js';
import type { TraceData } from './trace-data.js';
export type * from './account-records.js';
import type {
  AccessTokenRecord,
  NewRunner,
  Page,
  Paged,
  ProjectPatch,
  ProjectRecord,
  RunnerPatch,
  RunnerRecord,
  UserFilter,
  UserRecord,
  AccessLevel,
} from './account-records.js';

export type CreatedPipeline = { pipeline: PipelineRecord; jobs: JobRecord[] };
export interface PipelineVariable {
  key: string;
  value: string;
  variableType: 'env_var' | 'file';
}

export interface PipelineRecord {
  id: number;
  /** Per-project sequence number. */
  iid: number;
  projectId: number;
  ref: string;
  sha: string;
  beforeSha: string;
  tag: boolean;
  source: string;
  status: PipelineStatus;
  yamlErrors: string | null;
  name: string | null;
  /** Stage names in order, from the pipeline definition. */
  stages: string[];
  /** Global `variables:` of the .gitlab-ci.yml (key, value, expand) as compiled. */
  yamlVariables: { key: string; value: string; expand: boolean }[];
  /** Variables given when the pipeline was created (API `variables`). */
  variables: PipelineVariable[];
  userId: number;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  committedAt: Date | null;
  /** A child pipeline (`source` `parent_pipeline`): the pipeline and bridge job that created it. */
  parentPipelineId: number | null;
  parentJobId: number | null;
}

/** The parent link is optional on creation (null: a top-level pipeline). */
export type NewPipeline = Omit<
  PipelineRecord,
  'id' | 'iid' | 'updatedAt' | 'parentPipelineId' | 'parentJobId'
> &
  Partial<Pick<PipelineRecord, 'parentPipelineId' | 'parentJobId'>>;

export type PipelinePatch = Partial<
  Pick<PipelineRecord, 'status' | 'startedAt' | 'finishedAt' | 'yamlErrors'>
>;

export interface ProjectFilter {
  /** Only projects this user may see: not private, or created by them. */
  visibleToUserId?: number;
}

export interface PipelineFilter {
  ref?: string;
  sha?: string;
  status?: PipelineStatus;
  source?: string;
  /** Child pipelines of this pipeline. */
  parentPipelineId?: number;
  /** The child pipeline(s) created by this bridge job. */
  parentJobId?: number;
  /** Default `id`. */
  orderBy?: 'id' | 'status' | 'ref' | 'updated_at';
  /** Default `desc`, as GitLab. */
  sort?: 'asc' | 'desc';
}

export interface JobRecord {
  id: number;
  pipelineId: number;
  projectId: number;
  name: string;
  stage: string;
  stageIdx: number;
  status: JobStatus;
  when: string;
  allowFailure: boolean;
  /** The compiled job spec, frozen at pipeline creation. */
  definition: JobDefinition;
  tagList: string[];
  /** True for jobs of a protected ref: only runners with any access level may take them. */
  protected: boolean;
  runnerId: number | null;
  runnerSystemId: string | null;
  tokenHash: string | null;
  /** Job that this one retries (GitLab keeps the old job, marked retried). */
  retryOfId: number | null;
  retried: boolean;
  userId: number;
  createdAt: Date;
  updatedAt: Date;
  queuedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Last time the runner reported on this job (PUT or PATCH); drives stuck-runner detection. */
  lastSeenAt: Date | null;
  /** Effective timeout in seconds, decided when the job is claimed. */
  timeoutSeconds: number | null;
  failureReason: FailureReason | null;
  exitCode: number | null;
  traceSize: number;
  traceChecksum: string | null;
  coverage: number | null;
  /** When the job's log and artifacts were erased (`POST .../erase`), else null. */
  erasedAt: Date | null;
}

export type NewJob = Pick<
  JobRecord,
  | 'name'
  | 'stage'
  | 'stageIdx'
  | 'status'
  | 'when'
  | 'allowFailure'
  | 'definition'
  | 'tagList'
  | 'protected'
  | 'retryOfId'
  | 'userId'
>;

export type JobPatch = Partial<
  Pick<
    JobRecord,
    | 'status'
    | 'runnerId'
    | 'runnerSystemId'
    | 'tokenHash'
    | 'retried'
    | 'queuedAt'
    | 'startedAt'
    | 'finishedAt'
    | 'lastSeenAt'
    | 'timeoutSeconds'
    | 'failureReason'
    | 'exitCode'
    | 'traceChecksum'
    | 'coverage'
  >
>;

export interface JobFilter {
  pipelineId?: number;
  projectId?: number;
  statuses?: JobStatus[];
  /** Default false: jobs replaced by a retry are hidden, as GitLab hides them. */
  includeRetried?: boolean;
  /**
   * `build`: jobs a runner runs; `bridge`: trigger jobs (their definition has `trigger`), which
   * create child pipelines and never reach a runner. Default: both.
   */
  kind?: JobKind;
  /**
   * Only jobs whose `resource_group` (the definition's `resourceGroup`, unexpanded name) is one
   * of these; an empty list matches nothing. Combine with `projectId`: a group belongs to a project.
   */
  resourceGroups?: string[];
  /** Jobs a runner took. */
  runnerId?: number;
  /** Order by id; default `asc`. */
  sort?: 'asc' | 'desc';
}

export type JobKind = 'build' | 'bridge';

/** A job is a bridge when its definition has `trigger`; the store records the kind on insert. */
export function jobKindOf(definition: Pick<JobDefinition, 'trigger'>): JobKind {
  return definition.trigger ? 'bridge' : 'build';
}

/** What a runner may take, for `claimPendingJob`. */
export interface RunnerMatch {
  runnerId: number;
  tagList: string[];
  runUntagged: boolean;
  /** `ref_protected` runners only take jobs whose `protected` is true. */
  accessLevel: AccessLevel;
}

export interface JobClaim {
  tokenHash: string;
  startedAt: Date;
  runnerSystemId: string | null;
  /** The timeout; with `timeoutFromDefinition`, the definition's (capped at the maximum) first. */
  timeoutSeconds: number;
  timeoutFromDefinition?: boolean;
  maximumTimeoutSeconds?: number | null;
  /** Also sets the job's lastSeenAt (the claim is the runner's first sign of life for the job). */
  lastSeenAt?: Date;
}

export interface ArtifactRecord {
  id: number;
  jobId: number;
  fileType: string;
  fileFormat: string;
  filename: string;
  size: number;
  /** Storage key, relative to the artifacts root. */
  storageKey: string;
  createdAt: Date;
  expireAt: Date | null;
}

export type NewArtifact = Omit<ArtifactRecord, 'id' | 'createdAt'>;

export interface VariableRecord {
  projectId: number;
  key: string;
  value: string;
  variableType: 'env_var' | 'file';
  protected: boolean;
  masked: boolean;
  raw: boolean;
  environmentScope: string;
  description: string | null;
}

export type TraceAppendResult = { ok: true; size: number } | { ok: false; size: number };

export type * from './environment-records.js';

export interface Store extends FleetStore {
  close(): Promise<void>;
  /**
   * Resolves once every write this store has committed so far is on stable storage. Call it
   * before acknowledging a write to a client: on SQLite, commits are synced in groups (one WAL
   * sync for all the commits made while the previous one ran), not one by one.
   */
  durable(): Promise<void>;

  // users and access tokens
  getUser(id: number): Promise<UserRecord | null>;
  /** Creates the root user (id 1, username `root`) if missing and returns it. */
  ensureRootUser(): Promise<UserRecord>;
  /** A new user; a taken username is FLO_ERR_CONFLICT. */
  createUser(input: Pick<UserRecord, 'username' | 'name' | 'admin'>): Promise<UserRecord>;
  createAccessToken(
    input: Omit<AccessTokenRecord, 'id' | 'createdAt' | 'revoked'>,
  ): Promise<AccessTokenRecord>;
  findAccessTokenByHash(tokenHash: string): Promise<AccessTokenRecord | null>;
  getAccessToken(id: number): Promise<AccessTokenRecord | null>;
  /** Marks the token revoked (for good: it never authenticates again); null when it does not exist. */
  revokeAccessToken(id: number): Promise<AccessTokenRecord | null>;
  /** Users by id ascending. */
  listUsers(filter: UserFilter, page: Page): Promise<Paged<UserRecord>>;

  // projects
  /** Throws FlotillaError FLO_ERR_CONFLICT when namespace/path exists. */
  createProject(input: Omit<ProjectRecord, 'id' | 'createdAt' | 'lastActivityAt'>): Promise<ProjectRecord>;
  getProject(id: number): Promise<ProjectRecord | null>;
  findProjectByPath(namespacePath: string, path: string): Promise<ProjectRecord | null>;
  /** Projects by id; with `visibleToUserId`, only those that user may see (not others' private ones). */
  listProjects(page: Page, filter?: ProjectFilter): Promise<Paged<ProjectRecord>>;
  touchProject(id: number, at: Date): Promise<void>;
  updateProject(id: number, patch: ProjectPatch): Promise<ProjectRecord | null>;
  /**
   * Deletes the project with everything in it (pipelines, jobs, logs, artifact records, variables,
   * environments, deployments) atomically; false when it did not exist.
   */
  deleteProject(id: number): Promise<boolean>;

  // runners
  createRunner(input: NewRunner): Promise<RunnerRecord>;
  getRunner(id: number): Promise<RunnerRecord | null>;
  findRunnerByTokenHash(tokenHash: string): Promise<RunnerRecord | null>;
  listRunners(page: Page): Promise<Paged<RunnerRecord>>;
  updateRunner(id: number, patch: RunnerPatch): Promise<RunnerRecord | null>;
  deleteRunner(id: number): Promise<boolean>;

  // pipelines
  /** Atomically creates the pipeline (assigning the next per-project iid) and its jobs. */
  createPipeline(pipeline: NewPipeline, jobs: NewJob[]): Promise<CreatedPipeline>;
  getPipeline(id: number): Promise<PipelineRecord | null>;
  listPipelines(projectId: number, filter: PipelineFilter, page: Page): Promise<Paged<PipelineRecord>>;
  updatePipeline(id: number, patch: PipelinePatch, expect?: PipelineStatus[]): Promise<PipelineRecord | null>;
  /** To `status` unless it has it or YAML errors (no read first; startedAt ??= at when running,
   * finishedAt = at when complete or manual, else null); the row when it moved, else null. */
  setPipelineStatus(id: number, status: PipelineStatus, at: Date): Promise<PipelineRecord | null>;
  /**
   * Deletes the pipeline with its jobs, logs, artifact records and deployments atomically (child
   * pipelines stay, as in GitLab); false when it did not exist.
   */
  deletePipeline(id: number): Promise<boolean>;

  // jobs
  /** Adds jobs to an existing pipeline (retries). */
  createJobs(pipelineId: number, projectId: number, jobs: NewJob[]): Promise<JobRecord[]>;
  getJob(id: number): Promise<JobRecord | null>;
  listJobs(filter: JobFilter, page?: Page): Promise<Paged<JobRecord>>;
  findJobByTokenHash(tokenHash: string): Promise<JobRecord | null>;
  /**
   * Applies `patch`; with `expectStatuses`, only when the job's current status is one of them
   * (compare-and-set). Returns the updated job, or null when missing or the expectation failed.
   */
  updateJob(id: number, patch: JobPatch, expectStatuses?: JobStatus[]): Promise<JobRecord | null>;
  /**
   * Atomically takes the oldest `pending` build (never a bridge) this runner may run (tags ⊆
   * runner tags; untagged only when runUntagged; protected-only runners take protected jobs only),
   * sets it `running` with the claim's fields, and returns it; null when none matches.
   */
  claimPendingJob(match: RunnerMatch, claim: JobClaim): Promise<JobRecord | null>;
  /**
   * Erases a job: drops its log and artifact records, sets `traceSize` 0 and `erasedAt`, atomically;
   * returns it with the artifact records it had (the caller removes their files), or null.
   */
  eraseJob(id: number, at: Date): Promise<{ job: JobRecord; artifacts: ArtifactRecord[] } | null>;
  /** Sets lastSeenAt of those jobs still running or canceling (batched heartbeats); returns how many. */
  touchJobs(ids: number[], at: Date): Promise<number>;
  /** Running builds (never bridges) whose lastSeenAt (or startedAt) is before `before`. */
  listStaleRunningJobs(before: Date): Promise<JobRecord[]>;
  /** Builds (never bridges) in `pending` status (oldest first), for queue metrics and wake-ups. */
  listPendingJobs(limit: number): Promise<JobRecord[]>;

  // trace
  appendTrace(jobId: number, offset: number, data: TraceData): Promise<TraceAppendResult>;
  /** Bytes [offset, offset+limit) of the stored trace (all when limit is omitted). */
  readTrace(jobId: number, offset?: number, limit?: number): Promise<Buffer>;

  // artifacts
  addArtifact(input: NewArtifact): Promise<ArtifactRecord>;
  listArtifacts(jobId: number): Promise<ArtifactRecord[]>;

  // project CI variables
  listVariables(projectId: number): Promise<VariableRecord[]>;
  getVariable(projectId: number, key: string, environmentScope?: string): Promise<VariableRecord | null>;
  /** Throws FLO_ERR_CONFLICT when the key (and scope) exists. */
  createVariable(input: VariableRecord): Promise<VariableRecord>;
  updateVariable(
    projectId: number,
    key: string,
    environmentScope: string,
    patch: Partial<Omit<VariableRecord, 'projectId' | 'key'>>,
  ): Promise<VariableRecord | null>;
  deleteVariable(projectId: number, key: string, environmentScope: string): Promise<boolean>;

  // environments and deployments
  /** The project's environment of that name, created from `input` when missing (races included). */
  findOrCreateEnvironment(input: NewEnvironment): Promise<EnvironmentRecord>;
  getEnvironment(id: number): Promise<EnvironmentRecord | null>;
  updateEnvironment(id: number, patch: EnvironmentPatch): Promise<EnvironmentRecord | null>;
  /** By id ascending. */
  listEnvironments(
    projectId: number,
    filter: EnvironmentFilter,
    page: Page,
  ): Promise<Paged<EnvironmentRecord>>;
  /**
   * Records a job's environment link; `action: start` gets the project's next deployment iid.
   * Throws FLO_ERR_CONFLICT when the job already has one.
   */
  createDeployment(input: NewDeployment): Promise<DeploymentRecord>;
  updateDeployment(id: number, patch: DeploymentPatch): Promise<DeploymentRecord | null>;
  findDeploymentByJob(jobId: number): Promise<DeploymentRecord | null>;
  listDeployments(projectId: number, filter: DeploymentFilter, page: Page): Promise<Paged<DeploymentRecord>>;
}
