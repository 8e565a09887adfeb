/**
 * Harness of the docker executor's end-to-end tests: brings the real engine up with
 * scripts/docker-env.sh (failing loudly when it cannot), runs jobs through the real stage runner and
 * lists what a job left on the engine.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import Docker from 'dockerode';
import { Registry } from 'prom-client';

import type { JobPayload } from '../../../src/api/runner-api.js';
import { createDockerExecutorFactory } from '../../../src/executors/docker/docker-executor-factory.js';
import type { DockerConfigInput } from '../../../src/executors/docker/docker-config.js';
import type { Executor, ExecutorFactory, ExecutorRunnerInfo } from '../../../src/executors/executor.js';
import { executorJob, jobPayload } from '../../kits/executors/job-fixture.js';
import { createJobControl, type InterruptKind } from '../../../src/runner/job/job-control.js';
import { runStages, type StagesOutcome } from '../../../src/runner/job/stage-runner.js';
import { createJobTrace } from '../../../src/runner/trace/job-trace.js';
import { systemClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const VERSION = '0.1.0';
export const SHORT_TOKEN = 'e2edocker';

let ready = false;

/** Runs scripts/docker-env.sh (engine, registry, images); throws with its output when it fails. */
export function dockerEnv(): Docker {
  if (!ready) {
    try {
      execFileSync('bash', ['scripts/docker-env.sh'], { cwd: ROOT, stdio: 'pipe', timeout: 600_000 });
    } catch (err) {
      const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
      throw new Error(
        `scripts/docker-env.sh failed: the Docker Engine is required for these tests.\n${e.message}\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`,
      );
    }
    ready = true;
  }
  return new Docker({ socketPath: '/var/run/docker.sock' });
}

export function dockerFactory(
  config: DockerConfigInput,
  registry = new Registry(),
  env: NodeJS.ProcessEnv = {},
): ExecutorFactory {
  return createDockerExecutorFactory({
    config,
    registry,
    env,
    logger: silentLogger(),
    clock: systemClock,
    version: VERSION,
  });
}

let nextJobId = 100_000 + Math.floor(Math.random() * 800_000);

/** A payload with a fresh job id; `script` lines become the script step. */
export function dockerPayload(
  script: string[],
  overrides: Partial<JobPayload> = {},
  variables: Record<string, string> = {},
): JobPayload {
  const id = nextJobId++;
  const base = jobPayload({ id, image: { name: 'busybox:latest' } });
  return {
    ...base,
    job_info: { ...base.job_info, id },
    steps: [{ name: 'script', script, timeout: 3600, when: 'on_success', allow_failure: false }],
    variables: [
      { key: 'GIT_STRATEGY', value: 'none', public: true, masked: false },
      ...Object.entries(variables).map(([key, value]) => ({ key, value, public: true, masked: false })),
    ],
    ...overrides,
  };
}

export interface JobRun {
  outcome: StagesOutcome;
  log: string;
  executor: Executor;
  seconds: number;
}

export interface RunOptions {
  url?: string;
  /** Raise this interrupt after `afterMs`. */
  interrupt?: { kind: InterruptKind; afterMs: number };
  onStage?: (stage: string) => void;
  /** Runner settings of this job (another short token, builds dir, `[runners.cache]`...). */
  runner?: Partial<ExecutorRunnerInfo>;
}

/** Runs a whole job like the runner manager does (stages, timeout, cancel, cleanup). */
export async function runDockerJob(
  factory: ExecutorFactory,
  payload: JobPayload,
  options: RunOptions = {},
): Promise<JobRun> {
  const job = executorJob('/builds', payload, options.url);
  job.runner.shortToken = SHORT_TOKEN;
  Object.assign(job.runner, options.runner);
  const executor = factory.create(job);
  const trace = createJobTrace({
    secrets: [payload.token],
    tokenPrefixes: ['glcbt-'],
    limitBytes: 4 * 1024 * 1024,
  });
  const control = createJobControl();
  const timer = options.interrupt
    ? setTimeout(() => control.raise(options.interrupt!.kind), options.interrupt.afterMs)
    : undefined;
  const started = performance.now();
  try {
    const outcome = await runStages({
      payload,
      variables: job.variables,
      executor,
      executorName: factory.name,
      control,
      trace,
      clock: systemClock,
      logger: silentLogger(),
      observer: { stageStarted: (s) => options.onStage?.(s) },
    });
    return { outcome, log: trace.text(), executor, seconds: (performance.now() - started) / 1000 };
  } finally {
    clearTimeout(timer);
    await executor.cleanup();
  }
}

/** Containers, networks and volumes labelled with this job id. */
export async function jobObjects(docker: Docker, jobId: number): Promise<string[]> {
  const filters = JSON.stringify({ label: [`com.flotilla.job.id=${jobId}`] });
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  const { Volumes } = await docker.listVolumes({ filters });
  return [
    ...containers.map((c) => `container ${c.Names[0]}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...(Volumes ?? []).map((v) => `volume ${v.Name}`),
  ];
}
