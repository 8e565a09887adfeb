/**
 * GitLab's predefined CI/CD variables, with their exact names and meanings. Pipeline-level ones are
 * visible to `rules:if`; job-level ones are added when a job is handed to a runner.
 */
import type { JobVariable } from '../../../api/runner-api.js';
import type {
  JobRecord,
  PipelineRecord,
  ProjectRecord,
  RunnerRecord,
  UserRecord,
} from '../../store/store.js';
import type { CommitInfo } from '../repository.js';
import { slugify } from './slug.js';

export interface PipelineVariableContext {
  serverUrl: string;
  serverVersion: string;
  project: ProjectRecord;
  pipeline: Pick<PipelineRecord, 'id' | 'iid' | 'ref' | 'sha' | 'beforeSha' | 'tag' | 'source' | 'createdAt'>;
  refProtected: boolean;
  commit: CommitInfo | null;
  user: UserRecord | null;
  configPath: string;
}

function pub(key: string, value: string): JobVariable {
  return { key, value, public: true, masked: false };
}

function serverVariables(serverUrl: string, version: string): JobVariable[] {
  const url = new URL(serverUrl);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return [
    pub('CI', 'true'),
    pub('GITLAB_CI', 'true'),
    pub('CI_SERVER', 'yes'),
    pub('CI_SERVER_URL', serverUrl.replace(/\/$/, '')),
    pub('CI_SERVER_HOST', url.hostname),
    pub('CI_SERVER_PORT', port),
    pub('CI_SERVER_PROTOCOL', url.protocol.replace(':', '')),
    pub('CI_SERVER_FQDN', url.host),
    pub('CI_SERVER_NAME', 'Flotilla'),
    pub('CI_SERVER_VERSION', version),
    pub('CI_API_V4_URL', `${serverUrl.replace(/\/$/, '')}/api/v4`),
  ];
}

function projectVariables(ctx: PipelineVariableContext): JobVariable[] {
  const p = ctx.project;
  const fullPath = `${p.namespacePath}/${p.path}`;
  const base = ctx.serverUrl.replace(/\/$/, '');
  return [
    pub('CI_PROJECT_ID', String(p.id)),
    pub('CI_PROJECT_NAME', p.path),
    pub('CI_PROJECT_TITLE', p.name),
    pub('CI_PROJECT_PATH', fullPath),
    pub('CI_PROJECT_PATH_SLUG', slugify(fullPath)),
    pub('CI_PROJECT_NAMESPACE', p.namespacePath),
    pub('CI_PROJECT_ROOT_NAMESPACE', p.namespacePath.split('/')[0] ?? p.namespacePath),
    pub('CI_PROJECT_URL', `${base}/${fullPath}`),
    pub('CI_PROJECT_VISIBILITY', p.visibility),
    pub('CI_PROJECT_DESCRIPTION', p.description ?? ''),
    pub('CI_DEFAULT_BRANCH', p.defaultBranch),
    pub('CI_CONFIG_PATH', ctx.configPath),
  ];
}

function commitVariables(ctx: PipelineVariableContext): JobVariable[] {
  const pl = ctx.pipeline;
  const out = [
    pub('CI_COMMIT_SHA', pl.sha),
    pub('CI_COMMIT_SHORT_SHA', pl.sha.slice(0, 8)),
    pub('CI_COMMIT_BEFORE_SHA', pl.beforeSha),
    pub('CI_COMMIT_REF_NAME', pl.ref),
    pub('CI_COMMIT_REF_SLUG', slugify(pl.ref)),
    pub('CI_COMMIT_REF_PROTECTED', String(ctx.refProtected)),
    pl.tag ? pub('CI_COMMIT_TAG', pl.ref) : pub('CI_COMMIT_BRANCH', pl.ref),
  ];
  const c = ctx.commit;
  if (c) {
    out.push(
      pub('CI_COMMIT_TITLE', c.title),
      pub('CI_COMMIT_MESSAGE', c.message),
      pub('CI_COMMIT_DESCRIPTION', c.message.split('\n').slice(1).join('\n').trim()),
      pub('CI_COMMIT_AUTHOR', `${c.authorName} <${c.authorEmail}>`),
      pub('CI_COMMIT_TIMESTAMP', c.committedAt.toISOString().replace(/\.\d{3}Z$/, 'Z')),
    );
  }
  return out;
}

/** Variables known when the pipeline is created (visible to `rules:if`). */
export function pipelineVariables(ctx: PipelineVariableContext): JobVariable[] {
  const pl = ctx.pipeline;
  const base = ctx.serverUrl.replace(/\/$/, '');
  const fullPath = `${ctx.project.namespacePath}/${ctx.project.path}`;
  const user = ctx.user;
  return [
    ...serverVariables(ctx.serverUrl, ctx.serverVersion),
    ...projectVariables(ctx),
    ...commitVariables(ctx),
    pub('CI_PIPELINE_ID', String(pl.id)),
    pub('CI_PIPELINE_IID', String(pl.iid)),
    pub('CI_PIPELINE_SOURCE', pl.source),
    pub('CI_PIPELINE_URL', `${base}/${fullPath}/-/pipelines/${pl.id}`),
    pub('CI_PIPELINE_CREATED_AT', pl.createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z')),
    ...(user
      ? [
          pub('GITLAB_USER_ID', String(user.id)),
          pub('GITLAB_USER_LOGIN', user.username),
          pub('GITLAB_USER_NAME', user.name),
          pub('GITLAB_USER_EMAIL', `${user.username}@localhost`),
        ]
      : []),
  ];
}

/** Variables of one job run (added when the job is handed to a runner). */
export function jobVariables(
  job: JobRecord,
  runner: RunnerRecord,
  jobToken: string,
  serverUrl: string,
  project: ProjectRecord,
): JobVariable[] {
  const base = serverUrl.replace(/\/$/, '');
  const fullPath = `${project.namespacePath}/${project.path}`;
  const url = new URL(base);
  const repoUrl = `${url.protocol}//gitlab-ci-token:${jobToken}@${url.host}${url.pathname.replace(/\/$/, '')}/${fullPath}.git`;
  const def = job.definition;
  const out: JobVariable[] = [
    { key: 'CI_JOB_TOKEN', value: jobToken, public: false, masked: true },
    { key: 'CI_REPOSITORY_URL', value: repoUrl, public: false, masked: false },
    pub('CI_JOB_ID', String(job.id)),
    pub('CI_JOB_NAME', job.name),
    pub('CI_JOB_NAME_SLUG', slugify(job.name)),
    pub('CI_JOB_STAGE', job.stage),
    pub('CI_JOB_URL', `${base}/${fullPath}/-/jobs/${job.id}`),
    pub('CI_JOB_STARTED_AT', (job.startedAt ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z')),
    pub('CI_RUNNER_ID', String(runner.id)),
    pub('CI_RUNNER_DESCRIPTION', runner.description),
    pub('CI_RUNNER_TAGS', JSON.stringify(runner.tagList)),
  ];
  if (job.when === 'manual') out.push(pub('CI_JOB_MANUAL', 'true'));
  if (def.nodeIndex !== null && def.nodeTotal !== null) {
    out.push(pub('CI_NODE_INDEX', String(def.nodeIndex)), pub('CI_NODE_TOTAL', String(def.nodeTotal)));
  }
  return out;
}

/** `CI_ENVIRONMENT_*` of a job with `environment:` (name and url already expanded). */
export function environmentVariables(env: {
  name: string;
  slug: string;
  url: string | null;
  action: string;
  tier: string;
}): JobVariable[] {
  return [
    pub('CI_ENVIRONMENT_NAME', env.name),
    pub('CI_ENVIRONMENT_SLUG', env.slug),
    ...(env.url === null ? [] : [pub('CI_ENVIRONMENT_URL', env.url)]),
    pub('CI_ENVIRONMENT_ACTION', env.action),
    pub('CI_ENVIRONMENT_TIER', env.tier),
  ];
}
