/**
 * Builds the 201 body of POST /jobs/request: everything a GitLab runner needs to run the job,
 * in GitLab's shape (see the Runner API reference).
 */
import type {
  JobArtifactSpec,
  JobDependency,
  JobPayload,
  JobStep,
  JobVariable,
} from '../../../api/runner-api.js';
import { createHash } from 'node:crypto';

import type { CacheDefinition, JobDefinition } from '../../../pipeline/types.js';
import type {
  ArtifactRecord,
  JobRecord,
  PipelineRecord,
  ProjectRecord,
  RunnerRecord,
} from '../../store/store.js';
import type { SchedulerDeps } from '../deps.js';
import { payloadImage, payloadService } from './payload-images.js';
import { jobVariables } from '../variables/predefined-variables.js';
import { pipelineScopeVariables } from '../variables/pipeline-scope.js';
import { isRefProtected } from '../variables/variables.js';

export interface PayloadInput {
  job: JobRecord;
  pipeline: PipelineRecord;
  project: ProjectRecord;
  runner: RunnerRecord;
  jobToken: string;
  timeoutSeconds: number;
  /** Jobs whose artifacts this job downloads, with their archive when they have one. */
  dependencies: {
    job: JobRecord;
    archive: ArtifactRecord | null;
    dotenv: { key: string; value: string }[];
  }[];
}

function steps(job: JobRecord, timeout: number): JobStep[] {
  const def = job.definition;
  const out: JobStep[] = [
    {
      name: 'script',
      script: [...def.beforeScript, ...def.script],
      timeout,
      when: 'on_success',
      allow_failure: false,
    },
  ];
  if (def.afterScript.length > 0) {
    out.push({ name: 'after_script', script: def.afterScript, timeout, when: 'always', allow_failure: true });
  }
  return out;
}

/** The archive (when `paths` or `untracked` are given) and one entry per report, as GitLab sends them. */
function artifactEntries(spec: JobDefinition['artifacts']): JobArtifactSpec[] {
  if (!spec) return [];
  const out: JobArtifactSpec[] = [];
  if (spec.paths.length > 0 || spec.untracked) {
    out.push({
      name: spec.name ?? 'artifacts',
      untracked: spec.untracked,
      paths: spec.paths,
      exclude: spec.exclude,
      when: spec.when,
      expire_in: spec.expireIn,
      artifact_type: 'archive',
      artifact_format: 'zip',
    });
  }
  for (const [type, paths] of Object.entries(spec.reports ?? {})) {
    out.push({
      name: type,
      untracked: false,
      paths,
      exclude: [],
      // GitLab uploads reports whatever the job's outcome; a zip keeps every runner able to send it.
      when: 'always',
      expire_in: spec.expireIn,
      artifact_type: type,
      artifact_format: 'zip',
    });
  }
  return out;
}

function dedupeLastWins(vars: JobVariable[]): JobVariable[] {
  const byKey = new Map<string, JobVariable>();
  for (const v of vars) {
    byKey.delete(v.key);
    byKey.set(v.key, v);
  }
  return [...byKey.values()];
}

function yamlVars(list: { key: string; value: string; expand: boolean }[]): JobVariable[] {
  return list.map((v) => ({
    key: v.key,
    value: v.value,
    public: true,
    masked: false,
    ...(v.expand ? {} : { raw: true }),
  }));
}

function refspecs(pipeline: PipelineRecord, depth: number): string[] {
  const out = [`+refs/pipelines/${pipeline.id}:refs/pipelines/${pipeline.id}`];
  if (depth > 0) {
    out.push(
      pipeline.tag
        ? `+refs/tags/${pipeline.ref}:refs/tags/${pipeline.ref}`
        : `+refs/heads/${pipeline.ref}:refs/remotes/origin/${pipeline.ref}`,
    );
  } else {
    out.push('+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*');
  }
  return out;
}

function dependencyEntries(input: PayloadInput): JobDependency[] {
  return input.dependencies.map(({ job, archive }) => ({
    id: job.id,
    name: job.name,
    token: input.jobToken,
    ...(archive ? { artifacts_file: { filename: archive.filename, size: archive.size } } : {}),
  }));
}

/**
 * `cache:key:files`: a digest of those files at the commit (GitLab keys on the commits that last
 * changed them; a digest of the contents changes exactly when they do), with `key:prefix`;
 * `default` when none of the files exists, as GitLab does.
 */
async function cacheKey(
  deps: SchedulerDeps,
  fullPath: string,
  sha: string,
  c: CacheDefinition,
): Promise<string> {
  if (!c.keyFiles || c.keyFiles.length === 0) return c.key;
  const hash = createHash('sha256');
  let found = 0;
  for (const file of c.keyFiles) {
    const content = await deps.repos.readFile(fullPath, sha, file);
    if (content === null) continue;
    found++;
    hash.update(`${file}\0${content}\0`);
  }
  const digest = found > 0 ? hash.digest('hex').slice(0, 40) : 'default';
  return c.keyPrefix ? `${c.keyPrefix}-${digest}` : digest;
}

/**
 * The job's variables, later ones winning: predefined, the job's own predefined, the pipeline's and
 * the job's YAML variables, dotenv reports of its dependencies, the project's, then the pipeline's.
 */
async function payloadVariables(
  deps: SchedulerDeps,
  input: PayloadInput,
  fullPath: string,
  refProtected: boolean,
): Promise<JobVariable[]> {
  const { job, pipeline, project, runner, jobToken } = input;
  const { predefined, projectVars } = await pipelineScopeVariables(
    deps,
    project,
    pipeline,
    fullPath,
    refProtected,
  );
  const serverUrl = deps.config.externalUrl;
  const pipelineVars: JobVariable[] = pipeline.variables.map((v) => ({
    key: v.key,
    value: v.value,
    public: false,
    masked: false,
    ...(v.variableType === 'file' ? { file: true } : {}),
  }));
  return dedupeLastWins([
    ...predefined,
    ...jobVariables(job, runner, jobToken, serverUrl, project),
    ...yamlVars(pipeline.yamlVariables),
    ...yamlVars(job.definition.variables),
    ...input.dependencies.flatMap((d) =>
      d.dotenv.map((v) => ({ key: v.key, value: v.value, public: false, masked: false })),
    ),
    ...projectVars,
    ...pipelineVars,
  ]);
}

/** The job's caches with their keys resolved (files hashed at the commit, protected or not). */
function payloadCaches(
  deps: SchedulerDeps,
  fullPath: string,
  sha: string,
  refProtected: boolean,
  caches: readonly CacheDefinition[],
): Promise<JobPayload['cache']> {
  return Promise.all(
    caches.map(async (c) => ({
      key: `${await cacheKey(deps, fullPath, sha, c)}-${cacheSuffix(refProtected, c)}`,
      untracked: c.untracked,
      paths: c.paths,
      policy: c.policy,
      when: c.when,
      fallback_keys: c.fallbackKeys,
    })),
  );
}

/** What this coordinator's payloads support, in GitLab's `features` shape. */
function payloadFeatures(): JobPayload['features'] {
  return {
    trace_sections: true,
    token_mask_prefixes: ['glpat-', 'glrt-', 'glcbt-'],
    failure_reasons: [
      'unknown_failure',
      'script_failure',
      'runner_system_failure',
      'job_execution_timeout',
      'image_pull_failure',
      'runner_unsupported',
      'stuck_or_timeout_failure',
      'runner_configuration_error',
      'runner_external_dependency_failure',
      'runner_interrupted',
    ],
  };
}

export async function buildPayload(deps: SchedulerDeps, input: PayloadInput): Promise<JobPayload> {
  const { job, pipeline, project, jobToken, timeoutSeconds } = input;
  const fullPath = `${project.namespacePath}/${project.path}`;
  const refProtected = isRefProtected(project, pipeline.ref, pipeline.tag);
  const variables = await payloadVariables(deps, input, fullPath, refProtected);
  const depthVar = variables.find((v) => v.key === 'GIT_DEPTH');
  const depth =
    depthVar && /^\d+$/.test(depthVar.value) ? Number(depthVar.value) : deps.config.defaultGitDepth;
  const repoUrl = variables.find((v) => v.key === 'CI_REPOSITORY_URL')?.value ?? '';
  const def = job.definition;
  const queuedAt = job.queuedAt ?? job.createdAt;
  return {
    id: job.id,
    token: jobToken,
    allow_git_fetch: true,
    job_info: {
      id: job.id,
      name: job.name,
      stage: job.stage,
      pipeline_id: pipeline.id,
      project_id: project.id,
      project_name: project.path,
      project_full_path: fullPath,
      user_id: pipeline.userId,
      time_in_queue_seconds: Math.max(
        0,
        ((job.startedAt ?? deps.clock.now()).getTime() - queuedAt.getTime()) / 1000,
      ),
      queue_size: 0,
      queue_depth: 0,
    },
    git_info: {
      repo_url: repoUrl,
      ref: pipeline.ref,
      sha: pipeline.sha,
      before_sha: pipeline.beforeSha,
      ref_type: pipeline.tag ? 'tag' : 'branch',
      repo_object_format: 'sha1',
      protected: refProtected,
      depth,
      refspecs: refspecs(pipeline, depth),
    },
    runner_info: { timeout: timeoutSeconds },
    variables,
    steps: steps(job, timeoutSeconds),
    image: payloadImage(def.image),
    services: def.services.map(payloadService),
    artifacts: artifactEntries(def.artifacts),
    cache: await payloadCaches(deps, fullPath, pipeline.sha, refProtected, def.cache),
    credentials: [],
    dependencies: dependencyEntries(input),
    features: payloadFeatures(),
    // GitLab always sends `hooks`, empty when the job has none.
    hooks:
      def.preGetSourcesScript.length > 0
        ? [{ name: 'pre_get_sources_script', script: def.preGetSourcesScript }]
        : [],
  };
}

/**
 * GitLab keeps separate caches for protected and unprotected refs (`-protected` /
 * `-non_protected`), unless the cache says `unprotect: true`: then every ref shares the unprotected one.
 */
export function cacheSuffix(refProtected: boolean, cache: { unprotect?: boolean }): string {
  return refProtected && cache.unprotect !== true ? 'protected' : 'non_protected';
}
