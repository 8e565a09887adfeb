/** The variables every job of a pipeline starts from: the predefined ones and the project's. */
import type { JobVariable } from '../../../api/runner-api.js';
import type { PipelineRecord, ProjectRecord } from '../../store/store.js';
import type { SchedulerDeps } from '../deps.js';
import { pipelineVariables } from './predefined-variables.js';
import { projectVariablesFor } from './variables.js';

export interface PipelineScopeVariables {
  predefined: JobVariable[];
  projectVars: JobVariable[];
}

/**
 * The pipeline's predefined variables (commit, user, server) and the project's CI/CD variables
 * (protected ones only on protected refs), read in parallel.
 */
export async function pipelineScopeVariables(
  deps: Pick<SchedulerDeps, 'repos' | 'store' | 'config'>,
  project: ProjectRecord,
  pipeline: PipelineRecord,
  fullPath: string,
  refProtected: boolean,
): Promise<PipelineScopeVariables> {
  const [commit, user, projectVars] = await Promise.all([
    deps.repos.commitInfo(fullPath, pipeline.sha),
    deps.store.getUser(pipeline.userId),
    projectVariablesFor(deps.store, project.id, refProtected),
  ]);
  const predefined = pipelineVariables({
    serverUrl: deps.config.externalUrl,
    serverVersion: deps.config.version,
    project,
    pipeline,
    refProtected,
    commit,
    user,
    configPath: project.ciConfigPath ?? '.gitlab-ci.yml',
  });
  return { predefined, projectVars };
}
