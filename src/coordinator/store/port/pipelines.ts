/** Pipelines and their jobs (claims included): the pipelines aggregate of the store port. */
import type { FailureReason, JobStatus, PipelineStatus } from '../../../api/job-status.js';
import type { JobDefinition } from '../../../pipeline/types.js';
import type { ArtifactRecord } from './artifacts.js';
import type { Page, Paged } from './paging.js';
import type { AccessLevel } from './runners.js';

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
  /** The stage's rank among the pipeline's stages that have jobs (0: the first of them). */
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

/** A job as the announcer reads it (see `PipelineStore.listAnnounceableJobs`): no definition, no log fields. */
export type AnnounceableJob = Pick<
  JobRecord,
  'id' | 'pipelineId' | 'name' | 'stageIdx' | 'status' | 'tagList' | 'protected' | 'startedAt'
>;

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

export interface PipelineStore {
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
  /**
   * The pipeline's visible jobs by id, as `listJobs({ pipelineId })`, unless a visible job in stage
   * `maxStageIdx` or an earlier one is `running` or `pending` (under way, not done): then none (an
   * empty list). One statement, one snapshot: the check and the listing that follows it when no
   * such job is left, in one round trip (a visible job is one not retried).
   */
  listJobsUnlessUnderway(pipelineId: number, maxStageIdx: number): Promise<JobRecord[]>;
  /**
   * What announced jobs are computed from: the visible (not retried) builds `created`, `pending`
   * or `running` of the pipelines that have one of the oldest `limit` created builds, by id. One
   * statement that reads neither definitions nor the rest of the backlog.
   */
  listAnnounceableJobs(limit: number): Promise<AnnounceableJob[]>;
  findJobByTokenHash(tokenHash: string): Promise<JobRecord | null>;
  /**
   * Applies `patch`; with `expectStatuses`, only when the job's current status is one of them
   * (compare-and-set). Returns the updated job, or null when missing or the expectation failed.
   */
  updateJob(id: number, patch: JobPatch, expectStatuses?: JobStatus[]): Promise<JobRecord | null>;
  /**
   * `updateJob` of several jobs with the same patch in ONE statement (one commit): each job is
   * written only when its current status is one of `expectStatuses` (compare-and-set per row).
   * Returns the jobs written, by id; a missing id was not written (missing, or the expectation
   * failed). A pipeline's jobs moving to `pending` together take one commit instead of one each.
   */
  updateJobs(ids: readonly number[], patch: JobPatch, expectStatuses: JobStatus[]): Promise<JobRecord[]>;
  /**
   * Atomically takes the oldest `pending` build (never a bridge) this runner may run (tags ⊆
   * runner tags; untagged only when runUntagged; protected-only runners take protected jobs only),
   * sets it `running` with the claim's fields, and returns it; null when none matches.
   */
  claimPendingJob(match: RunnerMatch, claim: JobClaim): Promise<JobRecord | null>;
  /**
   * `claimPendingJob`, and the claimed job's pipeline read with the claim, in one store call
   * (PostgreSQL: one statement; SQLite: the claim and a read right after it on the connection held
   * for both). On PostgreSQL the pipeline is read from the statement's snapshot, so it may lag a
   * write committed while the claim ran (another claim's `running`, a cancel); on SQLite it is read
   * after the claim's commit. `pipeline` is undefined when the store does not read it with the
   * claim or the pipeline is gone.
   */
  claimPendingJobWithPipeline(
    match: RunnerMatch,
    claim: JobClaim,
  ): Promise<{ job: JobRecord; pipeline: PipelineRecord | undefined } | null>;
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
}
