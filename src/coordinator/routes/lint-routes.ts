/**
 * CI lint API: `POST /projects/:id/ci/lint` (content, or the project's file at `ref`),
 * `GET /projects/:id/ci/lint`, and the older instance-level `POST /ci/lint`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { lintPipeline, type LintResult } from '../../pipeline/lint.js';
import type { PipelineContext } from '../../pipeline/types.js';
import { FlotillaError } from '../../shared/errors.js';
import type { CoordinatorContext } from '../context.js';
import { ZERO_SHA } from '../scheduler/pipelines/create-pipeline.js';
import type { ProjectRecord } from '../store/store.js';
import { bodyOf, bool, str } from './http-helpers.js';
import { auth, resolveProject } from './project-routes.js';

function present(result: LintResult, includeJobs: boolean) {
  return {
    valid: result.valid,
    errors: result.errors,
    warnings: result.warnings,
    merged_yaml: result.mergedYaml,
    includes: [],
    ...(includeJobs
      ? {
          jobs: result.jobs.map((j) => ({
            name: j.name,
            stage: j.stage,
            before_script: j.beforeScript,
            script: j.script,
            after_script: j.afterScript,
            tag_list: j.tagList,
            when: j.when,
            allow_failure: j.allowFailure,
            needs: j.needs?.map((name) => ({ name })) ?? null,
          })),
        }
      : {}),
  };
}

async function projectContext(
  ctx: CoordinatorContext,
  project: ProjectRecord,
  ref: string,
): Promise<{ context: PipelineContext; sha: string | null }> {
  const fullPath = `${project.namespacePath}/${project.path}`;
  const sha = await ctx.git.resolveRef(fullPath, ref);
  const variables = {
    CI_COMMIT_REF_NAME: ref,
    CI_COMMIT_BRANCH: ref,
    CI_DEFAULT_BRANCH: project.defaultBranch,
    CI_PIPELINE_SOURCE: 'push',
    CI_PROJECT_PATH: fullPath,
  };
  const context: PipelineContext = {
    ref,
    sha: sha ?? ZERO_SHA,
    beforeSha: ZERO_SHA,
    tag: false,
    source: 'push',
    defaultBranch: project.defaultBranch,
    projectPath: fullPath,
    variables,
    ...(sha
      ? {
          readFile: (p: string) => ctx.git.readFile(fullPath, sha, p),
          listFiles: () => ctx.git.listFiles(fullPath, sha),
        }
      : {}),
  };
  return { context, sha };
}

async function lintProject(ctx: CoordinatorContext, request: FastifyRequest) {
  await auth(ctx, request);
  const project = await resolveProject(ctx, (request.params as Record<string, string>)['id'], request);
  const input = { ...(request.query as Record<string, unknown>), ...bodyOf(request) };
  const ref = str(input, 'ref') ?? str(input, 'content_ref') ?? project.defaultBranch;
  const { context, sha } = await projectContext(ctx, project, ref);
  let content = str(input, 'content');
  if (content === undefined) {
    const path = project.ciConfigPath ?? '.gitlab-ci.yml';
    content = sha
      ? ((await ctx.git.readFile(`${project.namespacePath}/${project.path}`, sha, path)) ?? undefined)
      : undefined;
    if (content === undefined)
      throw new FlotillaError('FLO_ERR_NOT_FOUND', `404 ${path} Not Found at ${ref}`);
  }
  const result = await lintPipeline(content, context, { fileName: project.ciConfigPath ?? '.gitlab-ci.yml' });
  return present(result, bool(input, 'include_jobs') === true);
}

export function registerLintRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.post('/api/v4/projects/:id/ci/lint', (request) => lintProject(ctx, request));
  app.get('/api/v4/projects/:id/ci/lint', (request) => lintProject(ctx, request));
  app.post('/api/v4/ci/lint', async (request) => {
    await auth(ctx, request);
    const content = str(bodyOf(request), 'content');
    if (content === undefined) throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'content is missing');
    const context: PipelineContext = {
      ref: 'main',
      sha: ZERO_SHA,
      beforeSha: ZERO_SHA,
      tag: false,
      source: 'push',
      defaultBranch: 'main',
      projectPath: 'root/lint',
      variables: {
        CI_COMMIT_BRANCH: 'main',
        CI_COMMIT_REF_NAME: 'main',
        CI_DEFAULT_BRANCH: 'main',
        CI_PIPELINE_SOURCE: 'push',
      },
    };
    const result = await lintPipeline(content, context);
    return {
      status: result.valid ? 'valid' : 'invalid',
      ...present(result, bool(bodyOf(request), 'include_jobs') === true),
    };
  });
}
