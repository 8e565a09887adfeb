/**
 * The steps of the docker executor's `prepare`, each a function of the job and its dependencies:
 * the pull plan (allow lists and pull policies, checked before anything starts), the pulls, the
 * job's network and volumes, the services (started, then probed from the helper) and the forwarder
 * that brings the coordinator onto the job network when it has no route to it.
 */
import type Docker from 'dockerode';

import { variableValue, type ExecutorJob, type StageContext } from '../executor.js';
import { authForImage } from './auth.js';
import {
  CoordinatorUnreachableError,
  forwardingNeeded,
  startForwarding,
  type Forwarding,
} from './coordinator-forward.js';
import type { PullPolicy } from './docker-config.js';
import { engineMessage, statusOf } from './docker-client.js';
import type { DockerExecutorDeps } from './docker-executor.js';
import type { JobContainers } from './job-containers.js';
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

export const RED = '\x1b[31;1m';
export const YELLOW = '\x1b[0;33m';
export const RESET = '\x1b[0;m';

function decided<T>(decision: Decision<T>, ctx: StageContext): T {
  if (decision.ok) return decision.value;
  ctx.output.write(`${RED}ERROR: ${decision.reason}${RESET}\n`);
  throw new DockerConfigurationError(decision.reason);
}

export interface PullItem {
  image: string;
  policies: PullPolicy[];
  platform?: string;
}

/** The job image first, then the services, then the helper; throws DockerConfigurationError on a refusal. */
export function pullPlan(job: ExecutorJob, deps: DockerExecutorDeps, ctx: StageContext): PullItem[] {
  const { config } = deps;
  const image = decided(chooseJobImage(job.payload.image, config), ctx);
  decided(checkServices(job.payload.services, config), ctx);
  const plan: PullItem[] = [
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

export async function pullAll(
  docker: Docker,
  plan: readonly PullItem[],
  job: ExecutorJob,
  deps: DockerExecutorDeps,
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
    await ensureImage({ docker, clock: deps.clock, metrics: deps.metrics, output: ctx.output }, request);
  }
}

/**
 * The job network (or a check of network_mode's), the builds and cache volumes and `volumes` volumes;
 * with a spare helper, its network and builds volume stand for the job's own, and it made the cache
 * volume.
 */
export async function createStorage(docker: Docker, spec: specs.SpecInput): Promise<void> {
  const { job, config } = spec;
  const names = specs.jobNames(job);
  const network = specs.networkFor(spec);
  if (spec.spare) {
    // A spare helper's network and builds volume are there already.
  } else if (!config.network_mode) await docker.createNetwork(specs.networkSpec(job));
  else if (specs.aliasesSupported(network))
    await docker
      .getNetwork(network)
      .inspect()
      .catch((err: unknown) => {
        throw new Error(
          `network_mode "${network}": ${statusOf(err) === 404 ? 'no such network' : engineMessage(err)}`,
        );
      });
  if (!spec.spare) await docker.createVolume(specs.volumeSpec(job, names.buildsVolume, 'builds-volume'));
  // A spare helper made the project's cache volume already, and its helper holds it mounted.
  if (!spec.spare && !config.disable_cache && !config.cache_dir)
    await docker.createVolume(specs.volumeSpec(job, names.cacheVolume, 'cache-volume'));
  for (const bind of specs.configBinds(spec)) {
    const [source = ''] = bind.split(':');
    if (!source.startsWith('/'))
      await docker.createVolume(
        specs.volumeSpec(job, source, config.disable_cache ? 'builds-volume' : 'project-volume'),
      );
  }
}

export interface ServicesInput {
  docker: Docker;
  spec: specs.SpecInput;
  containers: JobContainers;
  deps: DockerExecutorDeps;
  ctx: StageContext;
  track(container: Docker.Container): void;
}

/** Starts the job's services, then waits for each from the helper (wait_for_services_timeout). */
export async function startJobServices(input: ServicesInput): Promise<void> {
  const { docker, spec, containers, deps, ctx } = input;
  const { job } = spec;
  if (job.payload.services.length === 0) return;
  const network = specs.networkFor(spec);
  const serviceDeps = {
    docker,
    clock: deps.clock,
    metrics: deps.metrics,
    output: ctx.output,
    track: input.track,
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
    const code = await containers.execInHelper(
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
  await waitForServices(serviceDeps, started, network, deps.config.wait_for_services_timeout, probe);
}

export interface ForwardInput {
  docker: Docker;
  spec: specs.SpecInput;
  engineAddress: string;
  deps: DockerExecutorDeps;
  ctx: StageContext;
  track(container: Docker.Container): void;
}

/**
 * When the job network has no route to the coordinator: a forwarder on its gateway (see
 * coordinator-forward.ts). Null when none is needed, or when the coordinator is unreachable (a
 * warning: a job that needs no sources nor artifacts still runs; get_sources fails fast otherwise).
 */
export async function forwardCoordinator(input: ForwardInput): Promise<Forwarding | null> {
  const { docker, spec, deps, ctx } = input;
  const { job } = spec;
  if (!forwardingNeeded(deps.config, job.runner.url)) return null;
  try {
    return await startForwarding({
      docker,
      engineAddress: input.engineAddress,
      job,
      network: specs.networkFor(spec),
      helperImage: deps.helperImage,
      clock: deps.clock,
      track: input.track,
    });
  } catch (err) {
    if (!(err instanceof CoordinatorUnreachableError)) throw err;
    ctx.output.write(`${YELLOW}WARNING: ${err.message}${RESET}\n`);
    return null;
  }
}
