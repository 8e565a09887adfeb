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
import {
  variableValue,
  type BuildStage,
  type Executor,
  type ExecutorJob,
  type JobOutcome,
  type StageContext,
} from '../executor.js';
import { authForImage } from './auth.js';
import { buildStageScript } from './build-script.js';
import { cleanupJob } from './cleanup.js';
import {
  CoordinatorUnreachableError,
  forwardedVariables,
  forwardingNeeded,
  rewriteUrls,
  startForwarding,
  type Forwarding,
} from './coordinator-forward.js';
import type { DockerConfig, PullPolicy } from './docker-config.js';
import { engineMessage, pingEngine, statusOf, type DockerEndpoint } from './docker-client.js';
import type { HelperCommand, HelperRequest } from './helper-request.js';
import { createJobContainers, type JobContainers } from './job-containers.js';
import type { DockerMetrics } from './metrics.js';
import { chooseJobImage, checkServices, resolvePullPolicies, type Decision } from './policy.js';
import { ensureImage } from './pull.js';
import { startServices, waitForServices } from './services.js';
import * as specs from './to-container-spec.js';

/** A refusal before anything started (allow lists, pull policies); `failureReason` is GitLab's. */
export class DockerConfigurationError extends Error {
  readonly failureReason = 'runner_configuration_error';
  constructor(message: string) {
    super(message);
    this.name = 'DockerConfigurationError';
  }
}

export interface DockerExecutorDeps {
  config: DockerConfig;
  connect(): DockerEndpoint;
  helperImage: string;
  logger: Logger;
  clock: Clock;
  metrics: DockerMetrics;
  /** The manager's environment (for DOCKER_AUTH_CONFIG). */
  env: NodeJS.ProcessEnv;
}

const RED = '\x1b[31;1m';
const YELLOW = '\x1b[0;33m';
const RESET = '\x1b[0;m';

function decided<T>(decision: Decision<T>, ctx: StageContext): T {
  if (decision.ok) return decision.value;
  ctx.output.write(`${RED}ERROR: ${decision.reason}${RESET}\n`);
  throw new DockerConfigurationError(decision.reason);
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

export function createDockerExecutor(job: ExecutorJob, deps: DockerExecutorDeps): Executor {
  const { config, clock, metrics } = deps;
  const projectDir = specs.projectDir(job);
  const tmpDir = `${projectDir}.tmp`;
  let variables = [...executorVariables(projectDir), ...job.variables];
  const names = specs.jobNames(job);
  const created: Docker.Container[] = [];
  let endpoint: DockerEndpoint | null = null;
  let containers: JobContainers | null = null;
  let forwarding: Forwarding | null = null;
  let cleaned: Promise<void> | null = null;

  function pullPlan(ctx: StageContext): { image: string; policies: PullPolicy[]; platform?: string }[] {
    const image = decided(chooseJobImage(job.payload.image, config), ctx);
    decided(checkServices(job.payload.services, config), ctx);
    const plan = [
      {
        image,
        policies: decided(resolvePullPolicies(job.payload.image?.pull_policy, config), ctx),
        platform: job.payload.image?.executor_opts?.docker?.platform,
      },
    ];
    for (const s of job.payload.services) {
      plan.push({
        image: s.name,
        policies: decided(resolvePullPolicies(s.pull_policy, config), ctx),
        platform: s.executor_opts?.docker?.platform,
      });
    }
    plan.push({ image: deps.helperImage, policies: ['if-not-present'], platform: undefined });
    return plan;
  }

  async function pullAll(
    docker: Docker,
    plan: ReturnType<typeof pullPlan>,
    ctx: StageContext,
  ): Promise<void> {
    const sources = {
      jobDockerAuthConfig: variableValue(job.variables, 'DOCKER_AUTH_CONFIG'),
      runnerDockerAuthConfig: deps.env.DOCKER_AUTH_CONFIG,
      credentials: job.payload.credentials,
    };
    for (const item of plan) {
      const request = {
        image: item.image,
        policies: item.policies,
        auth: authForImage(item.image, sources),
        ...(item.platform ? { platform: item.platform } : {}),
      };
      await ensureImage({ docker, clock, metrics, output: ctx.output }, request);
    }
  }

  async function createStorage(docker: Docker, spec: specs.SpecInput): Promise<void> {
    const network = specs.networkFor(spec);
    if (!config.network_mode) await docker.createNetwork(specs.networkSpec(job));
    else if (specs.aliasesSupported(network))
      await docker
        .getNetwork(network)
        .inspect()
        .catch((err: unknown) => {
          throw new Error(
            `network_mode "${network}": ${statusOf(err) === 404 ? 'no such network' : engineMessage(err)}`,
          );
        });
    await docker.createVolume(specs.volumeSpec(job, names.buildsVolume, 'builds-volume'));
    if (!config.disable_cache && !config.cache_dir)
      await docker.createVolume(specs.volumeSpec(job, names.cacheVolume, 'cache-volume'));
    for (const bind of specs.configBinds(spec)) {
      const [source = ''] = bind.split(':');
      if (!source.startsWith('/'))
        await docker.createVolume(
          specs.volumeSpec(job, source, config.disable_cache ? 'builds-volume' : 'project-volume'),
        );
    }
  }

  async function startJobServices(
    docker: Docker,
    spec: specs.SpecInput,
    jobContainers: JobContainers,
    ctx: StageContext,
  ): Promise<void> {
    if (job.payload.services.length === 0) return;
    const network = specs.networkFor(spec);
    const serviceDeps = {
      docker,
      clock,
      metrics,
      output: ctx.output,
      track: (c: Docker.Container) => void created.push(c),
    };
    const started = await startServices(
      serviceDeps,
      job.payload.services.map((service, i) => ({
        service,
        spec: specs.serviceContainerSpec(spec, service, i),
      })),
    );
    const probe = async (host: string, port: number, seconds: number): Promise<string | null> => {
      let text = '';
      const code = await jobContainers.execInHelper(
        [
          'node',
          '/opt/flotilla/bin/flotilla-helper.js',
          'wait-for-service',
          host,
          String(port),
          String(seconds),
        ],
        { write: (c) => void (text += c.toString()) },
      );
      return code === 0 ? null : text.trim() || `exit code ${code}`;
    };
    await waitForServices(serviceDeps, started, network, config.wait_for_services_timeout, probe);
  }

  /** When the job network has no route to the coordinator: a forwarder on its gateway (see coordinator-forward.ts). */
  async function forwardCoordinator(docker: Docker, spec: specs.SpecInput, ctx: StageContext): Promise<void> {
    if (!forwardingNeeded(config, job.runner.url)) return;
    try {
      forwarding = await startForwarding({
        docker,
        engineAddress: endpoint?.address ?? '',
        job,
        network: specs.networkFor(spec),
        helperImage: deps.helperImage,
        clock,
        track: (c) => void created.push(c),
      });
    } catch (err) {
      if (!(err instanceof CoordinatorUnreachableError)) throw err;
      // A job that needs no sources nor artifacts still runs; get_sources fails fast otherwise.
      ctx.output.write(`${YELLOW}WARNING: ${err.message}${RESET}\n`);
      return;
    }
    variables = forwardedVariables(variables, job.runner.url, forwarding.address);
    ctx.output.write(
      `Forwarding the coordinator to the job network at ${forwarding.address} (from the ${forwarding.where})\n`,
    );
  }

  async function prepare(ctx: StageContext): Promise<void> {
    const plan = pullPlan(ctx);
    const jobImage = plan[0]?.image ?? '';
    ctx.output.write(`Using Docker executor with image ${jobImage} ...\n`);
    endpoint = deps.connect();
    await pingEngine(endpoint);
    const docker = endpoint.docker;
    ctx.output.write(`Using helper image ${deps.helperImage} ...\n`);
    await pullAll(docker, plan, ctx);
    const spec: specs.SpecInput = { job, config, jobImage, helperImage: deps.helperImage };
    await createStorage(docker, spec);
    const track = (c: Docker.Container): void => void created.push(c);
    containers = createJobContainers({ docker, spec, clock, metrics, track });
    await Promise.all([forwardCoordinator(docker, spec, ctx), containers.ensureHelper()]);
    await startJobServices(docker, spec, containers, ctx);
  }

  function helperStage(
    command: HelperCommand,
    ctx: StageContext,
    outcome: JobOutcome,
    remoteCache?: RemoteCache,
  ): Promise<number> {
    if (!containers) throw new Error('the docker executor was not prepared');
    const address = forwarding?.address;
    const containerUrl = (url: string): string => (address ? rewriteUrls(url, job.runner.url, address) : url);
    const gitInfo = { ...job.payload.git_info, repo_url: containerUrl(job.payload.git_info.repo_url) };
    const request: HelperRequest = {
      payload: { ...job.payload, git_info: gitInfo },
      variables,
      projectDir,
      tmpDir,
      baseUrl: containerUrl(job.runner.url),
      cacheDir: config.disable_cache ? null : specs.CACHE_DIR,
      outcome,
      remoteCache,
    };
    return containers.runHelper(command, request, ctx.output, ctx.signal);
  }

  /** Cache stages get the distributed cache's pre-signed URLs, made here on the manager. */
  async function cacheStage(command: HelperCommand, ctx: StageContext, outcome: JobOutcome): Promise<number> {
    return helperStage(command, ctx, outcome, await remoteCacheFor(job));
  }

  async function scriptStage(stage: 'step_script' | 'after_script', ctx: StageContext): Promise<number> {
    if (!containers) throw new Error('the docker executor was not prepared');
    const steps = job.payload.steps.filter((s) => (stage === 'after_script') === (s.name === 'after_script'));
    const extra: JobVariable[] =
      stage === 'after_script'
        ? [{ key: 'CI_JOB_STATUS', value: ctx.jobStatus, public: true, masked: false }]
        : [];
    for (const step of steps) {
      const script = buildStageScript({
        commands: step.script,
        variables: [...variables, ...extra],
        projectDir,
        tmpDir,
      });
      const code = await containers.runScript(stage, job.payload.image, script, ctx.output, ctx.signal);
      if (code !== 0) return code;
    }
    return 0;
  }

  async function run(stage: Exclude<BuildStage, 'prepare_executor'>, ctx: StageContext): Promise<number> {
    switch (stage) {
      case 'prepare_script':
        ctx.output.write(`Running on ${names.prefix} via ${endpoint?.address ?? 'docker'}...\n`);
        return 0;
      case 'get_sources':
        return helperStage('get-sources', ctx, 'success');
      case 'restore_cache':
        return cacheStage('cache-extractor', ctx, 'success');
      case 'download_artifacts':
        return helperStage('artifacts-downloader', ctx, 'success');
      case 'step_script':
      case 'after_script':
        return scriptStage(stage, ctx);
      case 'archive_cache':
        return cacheStage('cache-archiver', ctx, 'success');
      case 'archive_cache_on_failure':
        return cacheStage('cache-archiver', ctx, 'failed');
      case 'upload_artifacts_on_success':
        return helperStage('artifacts-uploader', ctx, 'success');
      case 'upload_artifacts_on_failure':
        return helperStage('artifacts-uploader', ctx, 'failed');
      case 'cleanup_file_variables':
        return 0;
    }
  }

  async function removeEverything(): Promise<void> {
    await forwarding?.close().catch(() => undefined);
    if (!endpoint) return;
    try {
      const report = await cleanupJob(endpoint.docker, job.runner.shortToken, job.payload.id);
      if (report.errors.length > 0)
        deps.logger.warn(
          { jobId: job.payload.id, errors: report.errors },
          'docker cleanup left objects behind',
        );
    } catch (err) {
      deps.logger.warn({ jobId: job.payload.id, err: errorMessage(err) }, 'docker cleanup failed');
    }
  }

  return {
    prepare,
    async runStage(stage, ctx) {
      return { exitCode: await run(stage, ctx) };
    },
    cleanup() {
      cleaned ??= removeEverything();
      return cleaned;
    },
  };
}
