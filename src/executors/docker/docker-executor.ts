/**
 * The docker executor: `prepare` checks the allow lists and pull policies before anything starts,
 * pulls the job, service and helper images, creates the job's network and builds volume, starts the
 * helper and the services and waits for them. Predefined stages (sources, cache, artifacts) run the
 * helper program inside the helper container with the job token; `step_script` and `after_script` run
 * in the job image with the builds volume at /builds. `cleanup` removes every object of the job.
 */
import type Docker from 'dockerode';

import type { JobVariable } from '../../api/runner-api.js';
import type { Clock } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { remoteCacheFor, type RemoteCache } from '../cache/remote-cache.js';
import type { BuildStage, Executor, ExecutorJob, JobOutcome, StageContext } from '../executor.js';
import { buildStageScript } from './build-script.js';
import { cleanupJob } from './cleanup.js';
import { forwardedVariables, rewriteUrls, type Forwarding } from './coordinator-forward.js';
import type { DockerConfig } from './docker-config.js';
import { pingEngine, type DockerEndpoint } from './docker-client.js';
import { createStorage, forwardCoordinator, pullAll, pullPlan, startJobServices } from './docker-prepare.js';
import type { HelperCommand, HelperRequest } from './helper-request.js';
import { createJobContainers, type JobContainers } from './job-containers.js';
import type { DockerMetrics } from './metrics.js';
import { spareKey, type SparePool } from './spare-helper.js';
import * as specs from './to-container-spec.js';

export { DockerConfigurationError } from './docker-prepare.js';

export interface DockerExecutorDeps {
  config: DockerConfig;
  connect(): DockerEndpoint;
  helperImage: string;
  logger: Logger;
  clock: Clock;
  metrics: DockerMetrics;
  /** The manager's environment (for DOCKER_AUTH_CONFIG). */
  env: NodeJS.ProcessEnv;
  /** Spare helpers made between jobs (spare-helper.ts); none when absent. */
  spares?: SparePool;
}

function executorVariables(projectDir: string): JobVariable[] {
  const plain = (key: string, value: string): JobVariable => ({ key, value, public: true, masked: false });
  return [
    plain('CI_BUILDS_DIR', specs.BUILDS_DIR),
    plain('CI_PROJECT_DIR', projectDir),
    plain('RUNNER_TEMP_PROJECT_DIR', `${projectDir}.tmp`),
    plain('CI_DISPOSABLE_ENVIRONMENT', 'true'),
  ];
}

/** What one job's executor holds between its stages. */
interface JobState {
  readonly job: ExecutorJob;
  readonly deps: DockerExecutorDeps;
  readonly projectDir: string;
  readonly tmpDir: string;
  readonly names: specs.JobNames;
  /** Every container created for the job (cleanup also finds them by label). */
  readonly created: Docker.Container[];
  variables: JobVariable[];
  endpoint: DockerEndpoint | null;
  /** Set once the pulls passed: what the job's containers are made from. */
  spec: specs.SpecInput | null;
  containers: JobContainers | null;
  forwarding: Forwarding | null;
}

function newJobState(job: ExecutorJob, deps: DockerExecutorDeps): JobState {
  const projectDir = specs.projectDir(job);
  return {
    job,
    deps,
    projectDir,
    tmpDir: `${projectDir}.tmp`,
    names: specs.jobNames(job),
    created: [],
    variables: [...executorVariables(projectDir), ...job.variables],
    endpoint: null,
    spec: null,
    containers: null,
    forwarding: null,
  };
}

async function prepare(state: JobState, ctx: StageContext): Promise<void> {
  const { job, deps } = state;
  const plan = pullPlan(job, deps, ctx);
  const jobImage = plan[0]?.image ?? '';
  ctx.output.write(`Using Docker executor with image ${jobImage} ...\n`);
  const endpoint = (state.endpoint = deps.connect());
  await pingEngine(endpoint);
  const docker = endpoint.docker;
  ctx.output.write(`Using helper image ${deps.helperImage} ...\n`);
  await pullAll(docker, plan, job, deps, ctx);
  const base: specs.SpecInput = { job, config: deps.config, jobImage, helperImage: deps.helperImage };
  const spare = (await deps.spares?.take(docker, spareKey(base))) ?? null;
  const spec: specs.SpecInput = spare ? { ...base, spare: spare.objects } : base;
  state.spec = spec;
  await createStorage(docker, spec);
  const track = (c: Docker.Container): void => void state.created.push(c);
  const containers = createJobContainers({
    docker,
    spec,
    clock: deps.clock,
    metrics: deps.metrics,
    track,
    helper: spare?.helper,
  });
  state.containers = containers;
  const forward = async (): Promise<void> => {
    const forwarding = await forwardCoordinator({
      docker,
      spec,
      engineAddress: endpoint.address,
      deps,
      ctx,
      track,
    });
    if (!forwarding) return;
    state.forwarding = forwarding;
    state.variables = forwardedVariables(state.variables, job.runner.url, forwarding.address);
    ctx.output.write(
      `Forwarding the coordinator to the job network at ${forwarding.address} (from the ${forwarding.where})\n`,
    );
  };
  await Promise.all([forward(), containers.ensureHelper()]);
  await startJobServices({ docker, spec, containers, deps, ctx, track });
}

function helperStage(
  state: JobState,
  command: HelperCommand,
  ctx: StageContext,
  outcome: JobOutcome,
  remoteCache?: RemoteCache,
): Promise<number> {
  const { job, containers } = state;
  if (!containers) throw new Error('the docker executor was not prepared');
  const address = state.forwarding?.address;
  const containerUrl = (url: string): string => (address ? rewriteUrls(url, job.runner.url, address) : url);
  const gitInfo = { ...job.payload.git_info, repo_url: containerUrl(job.payload.git_info.repo_url) };
  const request: HelperRequest = {
    payload: { ...job.payload, git_info: gitInfo },
    variables: state.variables,
    projectDir: state.projectDir,
    tmpDir: state.tmpDir,
    baseUrl: containerUrl(job.runner.url),
    cacheDir: state.deps.config.disable_cache ? null : specs.CACHE_DIR,
    outcome,
    remoteCache,
  };
  return containers.runHelper(command, request, ctx.output, ctx.signal);
}

/** Cache stages get the distributed cache's pre-signed URLs, made here on the manager. */
async function cacheStage(
  state: JobState,
  command: HelperCommand,
  ctx: StageContext,
  outcome: JobOutcome,
): Promise<number> {
  return helperStage(state, command, ctx, outcome, await remoteCacheFor(state.job));
}

async function scriptStage(
  state: JobState,
  stage: 'step_script' | 'after_script',
  ctx: StageContext,
): Promise<number> {
  const { job, containers } = state;
  if (!containers) throw new Error('the docker executor was not prepared');
  const steps = job.payload.steps.filter((s) => (stage === 'after_script') === (s.name === 'after_script'));
  const extra: JobVariable[] =
    stage === 'after_script'
      ? [{ key: 'CI_JOB_STATUS', value: ctx.jobStatus, public: true, masked: false }]
      : [];
  for (const step of steps) {
    const script = buildStageScript({
      commands: step.script,
      variables: [...state.variables, ...extra],
      projectDir: state.projectDir,
      tmpDir: state.tmpDir,
    });
    const code = await containers.runScript(stage, job.payload.image, script, ctx.output, ctx.signal);
    if (code !== 0) return code;
  }
  return 0;
}

/** The stages the helper container runs: its command, the job outcome it runs for, and whether it uses the cache. */
const HELPER_STAGES = {
  get_sources: { command: 'get-sources', outcome: 'success', cache: false },
  restore_cache: { command: 'cache-extractor', outcome: 'success', cache: true },
  download_artifacts: { command: 'artifacts-downloader', outcome: 'success', cache: false },
  archive_cache: { command: 'cache-archiver', outcome: 'success', cache: true },
  archive_cache_on_failure: { command: 'cache-archiver', outcome: 'failed', cache: true },
  upload_artifacts_on_success: { command: 'artifacts-uploader', outcome: 'success', cache: false },
  upload_artifacts_on_failure: { command: 'artifacts-uploader', outcome: 'failed', cache: false },
} as const satisfies Partial<
  Record<BuildStage, { command: HelperCommand; outcome: JobOutcome; cache: boolean }>
>;

type HelperStage = keyof typeof HELPER_STAGES;

function isHelperStage(stage: BuildStage): stage is HelperStage {
  return Object.hasOwn(HELPER_STAGES, stage);
}

async function runStage(
  state: JobState,
  stage: Exclude<BuildStage, 'prepare_executor'>,
  ctx: StageContext,
): Promise<number> {
  if (isHelperStage(stage)) {
    const { command, outcome, cache } = HELPER_STAGES[stage];
    return cache ? cacheStage(state, command, ctx, outcome) : helperStage(state, command, ctx, outcome);
  }
  switch (stage) {
    case 'prepare_script':
      ctx.output.write(`Running on ${state.names.prefix} via ${state.endpoint?.address ?? 'docker'}...\n`);
      return 0;
    case 'step_script':
      // Past the path from pickup to the script: the next job's helper can be made now.
      refillSpare(state);
      return scriptStage(state, stage, ctx);
    case 'after_script':
      return scriptStage(state, stage, ctx);
    case 'cleanup_file_variables':
      return 0;
  }
}

/** Has the pool make a spare helper for the next job like this one (when there is none yet). */
function refillSpare(state: JobState): void {
  if (state.endpoint && state.spec) state.deps.spares?.refill(state.endpoint.docker, state.spec);
}

async function removeEverything(state: JobState): Promise<void> {
  const { job, deps } = state;
  await state.forwarding?.close().catch(() => undefined);
  if (!state.endpoint) return;
  const docker = state.endpoint.docker;
  const spare = state.spec?.spare;
  try {
    const report = await cleanupJob(docker, job.runner.shortToken, job.payload.id);
    // Then the spare helper's objects: the job's build containers used its volume and network.
    if (spare) {
      const more = await cleanupJob(docker, job.runner.shortToken, spare.label);
      report.errors.push(...more.errors);
    }
    if (report.errors.length > 0)
      deps.logger.warn(
        { jobId: job.payload.id, errors: report.errors },
        'docker cleanup left objects behind',
      );
  } catch (err) {
    deps.logger.warn({ jobId: job.payload.id, err: errorMessage(err) }, 'docker cleanup failed');
  }
  refillSpare(state);
}

export function createDockerExecutor(job: ExecutorJob, deps: DockerExecutorDeps): Executor {
  const state = newJobState(job, deps);
  let cleaned: Promise<void> | null = null;
  return {
    prepare: (ctx) => prepare(state, ctx),
    async runStage(stage, ctx) {
      return { exitCode: await runStage(state, stage, ctx) };
    },
    cleanup() {
      cleaned ??= removeEverything(state);
      return cleaned;
    },
  };
}
