/** Row → record mapping: the one place that knows how each dialect hands values back. */
import type { Selectable } from 'kysely';
import type { FailureReason, JobStatus, PipelineStatus } from '../../../api/job-status.js';
import type {
  AccessLevel,
  AccessTokenRecord,
  AnnounceableJob,
  ArtifactRecord,
  JobRecord,
  PipelineRecord,
  ProjectRecord,
  RunnerRecord,
  RunnerType,
  UserRecord,
  VariableRecord,
} from '../store.js';
import type {
  AccessTokensTable,
  ArtifactsTable,
  JobsTable,
  PipelinesTable,
  ProjectsTable,
  RunnersTable,
  UsersTable,
  VariablesTable,
} from './schema.js';
import { jobDefinitions } from './definition-cache.js';

export function fromDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

export function fromDateOrNull(value: Date | string | null): Date | null {
  return value === null ? null : fromDate(value);
}

export function fromBool(value: boolean | number): boolean {
  return value === true || value === 1;
}

/** bigint columns and counts arrive as strings from PostgreSQL. */
export function fromBigint(value: number | string | bigint): number {
  return Number(value);
}

export function json<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function toUser(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    username: row.username,
    name: row.name,
    admin: fromBool(row.admin),
    createdAt: fromDate(row.created_at),
  };
}

export function toAccessToken(row: Selectable<AccessTokensTable>): AccessTokenRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    tokenHash: row.token_hash,
    scopes: json<string[]>(row.scopes),
    createdAt: fromDate(row.created_at),
    expiresAt: fromDateOrNull(row.expires_at),
    revoked: fromBool(row.revoked),
  };
}

export function toProject(row: Selectable<ProjectsTable>): ProjectRecord {
  return {
    id: row.id,
    name: row.name,
    path: row.path,
    namespacePath: row.namespace_path,
    description: row.description,
    defaultBranch: row.default_branch,
    visibility: row.visibility as ProjectRecord['visibility'],
    ciConfigPath: row.ci_config_path,
    protectedBranches: json<string[]>(row.protected_branches),
    creatorId: row.creator_id,
    createdAt: fromDate(row.created_at),
    lastActivityAt: fromDate(row.last_activity_at),
  };
}

export function toRunner(row: Selectable<RunnersTable>): RunnerRecord {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    description: row.description,
    tagList: json<string[]>(row.tag_list),
    runUntagged: fromBool(row.run_untagged),
    paused: fromBool(row.paused),
    locked: fromBool(row.locked),
    accessLevel: row.access_level as AccessLevel,
    maximumTimeout: row.maximum_timeout,
    runnerType: row.runner_type as RunnerType,
    maintenanceNote: row.maintenance_note,
    createdAt: fromDate(row.created_at),
    contactedAt: fromDateOrNull(row.contacted_at),
    version: row.version,
    revision: row.revision,
    platform: row.platform,
    architecture: row.architecture,
    executor: row.executor,
    ipAddress: row.ip_address,
  };
}

export function toPipeline(row: Selectable<PipelinesTable>): PipelineRecord {
  return {
    id: row.id,
    iid: row.iid,
    projectId: row.project_id,
    ref: row.ref,
    sha: row.sha,
    beforeSha: row.before_sha,
    tag: fromBool(row.tag),
    source: row.source,
    status: row.status as PipelineStatus,
    yamlErrors: row.yaml_errors,
    name: row.name,
    stages: json<string[]>(row.stages),
    yamlVariables: json<PipelineRecord['yamlVariables']>(row.yaml_variables),
    variables: json<PipelineRecord['variables']>(row.variables),
    userId: row.user_id,
    createdAt: fromDate(row.created_at),
    updatedAt: fromDate(row.updated_at),
    startedAt: fromDateOrNull(row.started_at),
    finishedAt: fromDateOrNull(row.finished_at),
    committedAt: fromDateOrNull(row.committed_at),
    parentPipelineId: row.parent_pipeline_id,
    parentJobId: row.parent_job_id,
  };
}

export type AnnounceRow = Pick<
  Selectable<JobsTable>,
  'id' | 'pipeline_id' | 'name' | 'stage_idx' | 'status' | 'tag_list' | 'protected' | 'started_at'
>;

export function toAnnounceableJob(row: AnnounceRow): AnnounceableJob {
  return {
    id: row.id,
    pipelineId: row.pipeline_id,
    name: row.name,
    stageIdx: row.stage_idx,
    status: row.status as JobStatus,
    tagList: json<string[]>(row.tag_list),
    protected: fromBool(row.protected),
    startedAt: fromDateOrNull(row.started_at),
  };
}

export function toJob(row: Selectable<JobsTable>): JobRecord {
  return {
    id: row.id,
    pipelineId: row.pipeline_id,
    projectId: row.project_id,
    name: row.name,
    stage: row.stage,
    stageIdx: row.stage_idx,
    status: row.status as JobStatus,
    when: row.when,
    allowFailure: fromBool(row.allow_failure),
    definition: jobDefinitions.get(row.id, row.definition),
    tagList: json<string[]>(row.tag_list),
    protected: fromBool(row.protected),
    runnerId: row.runner_id,
    runnerSystemId: row.runner_system_id,
    tokenHash: row.token_hash,
    retryOfId: row.retry_of_id,
    retried: fromBool(row.retried),
    userId: row.user_id,
    createdAt: fromDate(row.created_at),
    updatedAt: fromDate(row.updated_at),
    queuedAt: fromDateOrNull(row.queued_at),
    startedAt: fromDateOrNull(row.started_at),
    finishedAt: fromDateOrNull(row.finished_at),
    lastSeenAt: fromDateOrNull(row.last_seen_at),
    timeoutSeconds: row.timeout_seconds,
    failureReason: row.failure_reason as FailureReason | null,
    exitCode: row.exit_code,
    traceSize: fromBigint(row.trace_size),
    traceChecksum: row.trace_checksum,
    coverage: row.coverage,
    erasedAt: fromDateOrNull(row.erased_at),
  };
}

export function toArtifact(row: Selectable<ArtifactsTable>): ArtifactRecord {
  return {
    id: row.id,
    jobId: row.job_id,
    fileType: row.file_type,
    fileFormat: row.file_format,
    filename: row.filename,
    size: fromBigint(row.size),
    storageKey: row.storage_key,
    createdAt: fromDate(row.created_at),
    expireAt: fromDateOrNull(row.expire_at),
  };
}

export function toVariable(row: Selectable<VariablesTable>): VariableRecord {
  return {
    projectId: row.project_id,
    key: row.key,
    value: row.value,
    variableType: row.variable_type as VariableRecord['variableType'],
    protected: fromBool(row.protected),
    masked: fromBool(row.masked),
    raw: fromBool(row.raw),
    environmentScope: row.environment_scope,
    description: row.description,
  };
}
