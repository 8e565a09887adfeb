/**
 * Creates a pipeline for a commit: reads `.gitlab-ci.yml` at that commit (a child pipeline: its
 * bridge's `trigger:include` files), compiles it with the pipeline engine and stores the pipeline
 * with its jobs. An invalid file gives a `failed` pipeline carrying GitLab-style `yaml_errors`, as
 * GitLab does.
 */
import { compilePipeline } from '../../../pipeline/compile.js';
import type { JobDefinition, PipelineContext, PipelineError } from '../../../pipeline/types.js';
import { FlotillaError } from '../../../shared/errors.js';
import type { CommitInfo } from '../repository.js';
import type {
  JobRecord,
  NewJob,
  NewPipeline,
  PipelineRecord,
  PipelineVariable,
  ProjectRecord,
} from '../../store/store.js';
import type { SchedulerDeps } from '../deps.js';
import { pipelineVariables } from '../variables/predefined-variables.js';
import { isRefProtected, projectVariablesFor } from '../variables/variables.js';

export interface CreatePipelineInput {
  project: ProjectRecord;
  ref: string;
  /** Defaults to the ref's head. */
  sha?: string;
  beforeSha?: string;
  source: string;
  variables: PipelineVariable[];
  userId: number;
  /** Set for a child pipeline (`source` `parent_pipeline`), created by a bridge job. */
  child?: ChildPipelineSpec;
}

export interface ChildPipelineSpec {
  parentPipelineId: number;
  parentJobId: number;
  /** The bridge's `trigger:include` local files, in order. */
  include: string[];
  /** The parent's ref is a tag (the child runs at the parent's sha, not the ref's head). */
  tag: boolean;
}

export const ZERO_SHA = '0000000000000000000000000000000000000000';

/**
 * The rank of each used stage index among the stages that have jobs: `stageIdx` 0 is the first
 * stage with a job, so a claim knows without listing the pipeline that no earlier stage has
 * artifacts to download. Order between stages is the same as by their index.
 */
function stageRanks(jobs: readonly JobDefinition[]): Map<number, number> {
  const used = [...new Set(jobs.map((j) => j.stageIndex))].sort((a, b) => a - b);
  return new Map(used.map((index, rank) => [index, rank]));
}

function toNewJob(def: JobDefinition, stageIdx: number, isProtected: boolean, userId: number): NewJob {
  return {
    name: def.name,
    stage: def.stage,
    stageIdx,
    status: 'created',
    when: def.when,
    allowFailure: def.allowFailure,
    definition: def,
    tagList: def.tags,
    protected: isProtected,
    retryOfId: null,
    userId,
  };
}

async function resolveCommit(deps: SchedulerDeps, fullPath: string, input: CreatePipelineInput) {
  if (input.child && input.sha) return { sha: input.sha, tag: input.child.tag };
  const sha = input.sha ?? (await deps.repos.resolveRef(fullPath, input.ref));
  const kind = await deps.repos.refType(fullPath, input.ref);
  if (!sha || !kind) {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'Reference not found', { details: { ref: input.ref } });
  }
  return { sha, tag: kind === 'tag' };
}

export interface CreatedPipeline {
  pipeline: PipelineRecord;
  /** The jobs as stored by the creation (none for a pipeline with YAML errors). */
  jobs: JobRecord[];
  /** `workflow:auto_cancel:on_new_commit` of the new pipeline: conservative (default), interruptible or none. */
  autoCancelOnNewCommit: string;
}

/** The commit a pipeline is created for, once resolved. */
interface PipelineCommit {
  fullPath: string;
  sha: string;
  tag: boolean;
  beforeSha: string;
  configPath: string;
  refProtected: boolean;
  now: Date;
}

/**
 * What the pipeline engine sees: the ref, the variables (predefined, then the project's, then the
 * request's, later ones winning) and the files at the commit; and the commit's details.
 */
async function compileContext(
  deps: SchedulerDeps,
  input: CreatePipelineInput,
  c: PipelineCommit,
): Promise<{ context: PipelineContext; commit: CommitInfo | null }> {
  const { project } = input;
  const { fullPath, sha, tag, beforeSha } = c;
  const [commit, user, projectVars] = await Promise.all([
    deps.repos.commitInfo(fullPath, sha),
    deps.store.getUser(input.userId),
    projectVariablesFor(deps.store, project.id, c.refProtected),
  ]);
  const draft = {
    id: 0,
    iid: 0,
    ref: input.ref,
    sha,
    beforeSha,
    tag,
    source: input.source,
    createdAt: c.now,
  };
  const predefined = pipelineVariables({
    serverUrl: deps.config.externalUrl,
    serverVersion: deps.config.version,
    project,
    pipeline: draft,
    refProtected: c.refProtected,
    commit,
    user,
    configPath: c.configPath,
  });
  const variables: Record<string, string> = {};
  for (const v of [...predefined, ...projectVars, ...input.variables]) variables[v.key] = v.value;
  const context: PipelineContext = {
    ref: input.ref,
    sha,
    beforeSha,
    tag,
    source: input.source,
    defaultBranch: project.defaultBranch,
    projectPath: fullPath,
    variables,
    readFile: (path) => deps.repos.readFile(fullPath, sha, path),
    listFiles: () => deps.repos.listFiles(fullPath, sha),
    ...(beforeSha !== ZERO_SHA
      ? { changedFiles: (await deps.repos.changedFiles(fullPath, beforeSha, sha)) ?? [] }
      : {}),
  };
  return { context, commit };
}

type PipelineBase = Omit<
  NewPipeline,
  'status' | 'yamlErrors' | 'name' | 'stages' | 'yamlVariables' | 'startedAt' | 'finishedAt'
>;

/** Stores a `failed` pipeline without jobs, carrying GitLab-style `yaml_errors`. */
async function createFailedPipeline(
  deps: SchedulerDeps,
  base: PipelineBase,
  errors: readonly PipelineError[],
  now: Date,
): Promise<PipelineRecord> {
  const yamlErrors = errors
    .map((e) =>
      e.position ? `${e.message} (${e.position.file}:${e.position.line}:${e.position.column})` : e.message,
    )
    .join(', ');
  const { pipeline } = await deps.store.createPipeline(
    {
      ...base,
      status: 'failed',
      yamlErrors,
      name: null,
      stages: [],
      yamlVariables: [],
      startedAt: null,
      finishedAt: now,
    },
    [],
  );
  deps.logger.info(
    { pipelineId: pipeline.id, projectId: base.projectId },
    'pipeline created with yaml errors',
  );
  return pipeline;
}

export async function createPipeline(
  deps: SchedulerDeps,
  input: CreatePipelineInput,
): Promise<CreatedPipeline> {
  const { project } = input;
  const fullPath = `${project.namespacePath}/${project.path}`;
  const { sha, tag } = await resolveCommit(deps, fullPath, input);
  const configPath = project.ciConfigPath ?? '.gitlab-ci.yml';
  const yaml = input.child
    ? childConfig(input.child.include)
    : await deps.repos.readFile(fullPath, sha, configPath);
  if (yaml === null) {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'Missing CI config file', { details: { configPath } });
  }
  const now = deps.clock.now();
  const refProtected = isRefProtected(project, input.ref, tag);
  const beforeSha = input.beforeSha ?? ZERO_SHA;
  const c = { fullPath, sha, tag, beforeSha, configPath, refProtected, now };
  const { commit, context } = await compileContext(deps, input, c);
  const fileName = input.child ? (input.child.include[0] ?? configPath) : configPath;
  const result = await compilePipeline(yaml, context, { fileName });
  const base = {
    projectId: project.id,
    ref: input.ref,
    sha,
    beforeSha,
    tag,
    source: input.source,
    variables: input.variables,
    userId: input.userId,
    createdAt: now,
    committedAt: commit?.committedAt ?? null,
    ...(input.child
      ? { parentPipelineId: input.child.parentPipelineId, parentJobId: input.child.parentJobId }
      : {}),
  };
  if (!result.ok && result.reason === 'filtered') {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'validation failed', {
      details: { fields: { base: result.errors.map((e) => e.message) } },
    });
  }
  if (!result.ok) {
    const pipeline = await createFailedPipeline(deps, base, result.errors, now);
    return { pipeline, jobs: [], autoCancelOnNewCommit: 'none' };
  }
  const def = result.pipeline;
  const ranks = stageRanks(def.jobs);
  const { pipeline, jobs } = await deps.store.createPipeline(
    {
      ...base,
      status: 'created',
      yamlErrors: null,
      name: def.workflowName,
      stages: def.stages,
      yamlVariables: def.variables,
      startedAt: null,
      finishedAt: null,
    },
    def.jobs.map((j) => toNewJob(j, ranks.get(j.stageIndex) ?? j.stageIndex, refProtected, input.userId)),
  );
  await deps.repos.createPipelineRef(fullPath, pipeline.id, sha);
  deps.logger.info(
    { pipelineId: pipeline.id, projectId: project.id, ref: input.ref, jobs: def.jobs.length },
    'pipeline created',
  );
  return { pipeline, jobs, autoCancelOnNewCommit: def.autoCancel?.onNewCommit ?? 'conservative' };
}

/** A child pipeline's configuration: its files, included locally as GitLab composes it. */
function childConfig(include: string[]): string {
  return JSON.stringify({ include: include.map((local) => ({ local })) });
}
