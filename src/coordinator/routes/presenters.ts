/** Store records → GitLab REST v4 response shapes. */
import type {
  BridgeResponse,
  DownstreamPipelineRef,
  JobResponse,
  PipelineResponse,
  ProjectResponse,
  RunnerDetailResponse,
  RunnerResponse,
  UserRef,
  VariableResponse,
} from '../../api/rest-api.js';
import type {
  ArtifactRecord,
  JobRecord,
  PipelineRecord,
  ProjectRecord,
  RunnerRecord,
  UserRecord,
  VariableRecord,
} from '../store/store.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const seconds = (from: Date | null, to: Date | null): number | null =>
  from && to ? Math.max(0, (to.getTime() - from.getTime()) / 1000) : null;

export function presentUser(user: UserRecord | null, base: string): UserRef {
  const u = user ?? { id: 1, username: 'root', name: 'Administrator' };
  return {
    id: u.id,
    username: u.username,
    name: u.name,
    state: 'active',
    avatar_url: null,
    web_url: `${base}/${u.username}`,
  };
}

export function presentProject(p: ProjectRecord, base: string): ProjectResponse {
  const full = `${p.namespacePath}/${p.path}`;
  return {
    id: p.id,
    description: p.description,
    name: p.name,
    name_with_namespace: `${p.namespacePath === 'root' ? 'Administrator' : p.namespacePath} / ${p.name}`,
    path: p.path,
    path_with_namespace: full,
    created_at: p.createdAt.toISOString(),
    default_branch: p.defaultBranch,
    visibility: p.visibility,
    ssh_url_to_repo: null,
    http_url_to_repo: `${base}/${full}.git`,
    web_url: `${base}/${full}`,
    namespace: {
      id: 1,
      name: p.namespacePath === 'root' ? 'Administrator' : p.namespacePath,
      path: p.namespacePath,
      kind: 'user',
      full_path: p.namespacePath,
      parent_id: null,
      web_url: `${base}/${p.namespacePath}`,
    },
    last_activity_at: p.lastActivityAt.toISOString(),
    ci_config_path: p.ciConfigPath,
    empty_repo: false,
    archived: false,
    jobs_enabled: true,
    shared_runners_enabled: true,
  };
}

export function presentPipeline(
  pl: PipelineRecord,
  project: ProjectRecord,
  user: UserRecord | null,
  base: string,
): PipelineResponse {
  return {
    ...pipelineRef(pl, project, base),
    before_sha: pl.beforeSha,
    tag: pl.tag,
    yaml_errors: pl.yamlErrors,
    user: presentUser(user, base),
    started_at: iso(pl.startedAt),
    finished_at: iso(pl.finishedAt),
    committed_at: iso(pl.committedAt),
    duration: seconds(pl.startedAt, pl.finishedAt),
    queued_duration: seconds(pl.createdAt, pl.startedAt),
    coverage: null,
    name: pl.name,
  };
}

export interface JobContext {
  pipeline: PipelineRecord;
  project: ProjectRecord;
  user: UserRecord | null;
  runner: RunnerRecord | null;
  artifacts: ArtifactRecord[];
  base: string;
}

/** The Flotilla `needs` extension: the names of the jobs the job needs, or null without `needs:`. */
function needNames(job: JobRecord): string[] | null {
  return job.definition.needs ? job.definition.needs.map((n) => n.job) : null;
}

/** The fields a job and a bridge share, in GitLab's order up to `commit`; a bridge has no coverage and is never erased. */
function jobFields<Coverage extends number | null, Erased extends string | null>(
  job: JobRecord,
  ctx: { pipeline: PipelineRecord; user: UserRecord | null; base: string },
  own: { coverage: Coverage; erased_at: Erased },
) {
  const { pipeline } = ctx;
  return {
    id: job.id,
    status: job.status,
    stage: job.stage,
    name: job.name,
    ref: pipeline.ref,
    tag: pipeline.tag,
    coverage: own.coverage,
    allow_failure: job.allowFailure,
    created_at: job.createdAt.toISOString(),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    erased_at: own.erased_at,
    duration: seconds(job.startedAt, job.finishedAt),
    queued_duration: seconds(job.queuedAt, job.startedAt),
    user: presentUser(ctx.user, ctx.base),
    commit: { id: pipeline.sha, short_id: pipeline.sha.slice(0, 8), title: '' },
  };
}

export function presentJob(job: JobRecord, ctx: JobContext): JobResponse {
  const { pipeline, project, base } = ctx;
  const archive = ctx.artifacts.find((a) => a.fileType === 'archive');
  return {
    ...jobFields(job, ctx, { coverage: job.coverage, erased_at: iso(job.erasedAt) }),
    pipeline: {
      id: pipeline.id,
      project_id: pipeline.projectId,
      ref: pipeline.ref,
      sha: pipeline.sha,
      status: pipeline.status,
    },
    web_url: `${base}/${project.namespacePath}/${project.path}/-/jobs/${job.id}`,
    project: { ci_job_token_scope_enabled: false },
    artifacts: ctx.artifacts.map((a) => ({
      file_type: a.fileType,
      size: a.size,
      filename: a.filename,
      file_format: a.fileFormat,
    })),
    ...(archive ? { artifacts_file: { filename: archive.filename, size: archive.size } } : {}),
    artifacts_expire_at: iso(archive?.expireAt ?? null),
    runner: ctx.runner ? presentRunner(ctx.runner) : null,
    tag_list: job.tagList,
    ...(job.failureReason ? { failure_reason: job.failureReason } : {}),
    when: job.when,
    exit_code: job.exitCode,
    needs: needNames(job),
  };
}

function pipelineUrl(pl: PipelineRecord, project: ProjectRecord, base: string): string {
  return `${base}/${project.namespacePath}/${project.path}/-/pipelines/${pl.id}`;
}

function pipelineRef(pl: PipelineRecord, project: ProjectRecord, base: string): DownstreamPipelineRef {
  return {
    id: pl.id,
    iid: pl.iid,
    project_id: pl.projectId,
    sha: pl.sha,
    ref: pl.ref,
    status: pl.status,
    source: pl.source,
    created_at: pl.createdAt.toISOString(),
    updated_at: pl.updatedAt.toISOString(),
    web_url: pipelineUrl(pl, project, base),
  };
}

export interface BridgeContext {
  pipeline: PipelineRecord;
  project: ProjectRecord;
  user: UserRecord | null;
  /** The child pipeline the bridge created, when there is one. */
  downstream: PipelineRecord | null;
  base: string;
}

/** A bridge (trigger job) in GitLab's shape, with the child pipeline it created. */
export function presentBridge(job: JobRecord, ctx: BridgeContext): BridgeResponse {
  const { pipeline, project, base } = ctx;
  return {
    ...jobFields(job, ctx, { coverage: null, erased_at: null }),
    pipeline: pipelineRef(pipeline, project, base),
    web_url: `${base}/${project.namespacePath}/${project.path}/-/jobs/${job.id}`,
    ...(job.failureReason ? { failure_reason: job.failureReason } : {}),
    downstream_pipeline: ctx.downstream ? pipelineRef(ctx.downstream, project, base) : null,
    needs: needNames(job),
  };
}

const ONLINE_MS = 2 * 3600 * 1000;

export function runnerStatus(r: RunnerRecord, now = Date.now()): RunnerResponse['status'] {
  if (!r.contactedAt) return 'never_contacted';
  return now - r.contactedAt.getTime() < ONLINE_MS ? 'online' : 'offline';
}

export function presentRunner(r: RunnerRecord): RunnerResponse {
  const status = runnerStatus(r);
  return {
    id: r.id,
    description: r.description,
    ip_address: r.ipAddress,
    active: !r.paused,
    paused: r.paused,
    is_shared: r.runnerType === 'instance_type',
    runner_type: r.runnerType,
    name: 'flotilla',
    online: status === 'online',
    status,
  };
}

export function presentRunnerDetail(r: RunnerRecord): RunnerDetailResponse {
  return {
    ...presentRunner(r),
    tag_list: r.tagList,
    run_untagged: r.runUntagged,
    locked: r.locked,
    access_level: r.accessLevel,
    maximum_timeout: r.maximumTimeout,
    contacted_at: iso(r.contactedAt),
    version: r.version,
    revision: r.revision,
    platform: r.platform,
    architecture: r.architecture,
    maintenance_note: r.maintenanceNote,
    projects: [],
    groups: [],
  };
}

export function presentVariable(v: VariableRecord): VariableResponse {
  return {
    variable_type: v.variableType,
    key: v.key,
    value: v.value,
    protected: v.protected,
    masked: v.masked,
    raw: v.raw,
    environment_scope: v.environmentScope,
    description: v.description,
  };
}
