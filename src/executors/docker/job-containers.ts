/**
 * The containers of one running job: the long-lived helper container (predefined stages run in it
 * with `exec`; it is recreated after a stage was stopped) and one short-lived job-image container per
 * script stage. Stopping a stage kills its container, waits until it is gone, then rejects with the
 * signal's reason.
 */
import type Docker from 'dockerode';

import type { JobImage } from '../../api/runner-api.js';
import type { Clock } from '../../shared/clock.js';
import type { JobOutput } from '../executor.js';
import { execWithStdin, killContainer, removeContainer, runWithStdin } from './docker-client.js';
import { helperArgv, type HelperCommand, type HelperRequest } from './helper-request.js';
import type { DockerMetrics } from './metrics.js';
import { buildContainerSpec, helperContainerSpec, type SpecInput } from './to-container-spec.js';

export interface JobContainers {
  /** Creates and starts the helper container unless it is running. */
  ensureHelper(): Promise<Docker.Container>;
  runHelper(
    command: HelperCommand,
    request: HelperRequest,
    output: JobOutput,
    signal: AbortSignal,
  ): Promise<number>;
  /** Runs `argv` in the helper (no stdin), e.g. a service probe. */
  execInHelper(argv: string[], output: JobOutput): Promise<number>;
  runScript(
    stage: string,
    image: JobImage | null,
    script: string,
    output: JobOutput,
    signal: AbortSignal,
  ): Promise<number>;
}

export interface JobContainersDeps {
  docker: Docker;
  spec: SpecInput;
  clock: Clock;
  metrics: DockerMetrics;
  track(container: Docker.Container): void;
  /** A helper container that is running already (a spare helper the job took over). */
  helper?: Docker.Container;
}

/**
 * Resolves `work`, or on abort runs `stop`, waits for `work` to settle (each at most 10 s), and
 * rejects with the reason.
 */
export async function abortable<T>(
  signal: AbortSignal,
  work: () => Promise<T>,
  stop: () => Promise<void>,
): Promise<T> {
  if (signal.aborted) throw signal.reason;
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const running = work();
  const settled = running.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  try {
    const first = await Promise.race([settled, aborted]);
    if (first === 'aborted') {
      // Both bounded: on an engine that died, neither the kill nor the work may ever answer.
      await Promise.race([stop(), new Promise((r) => setTimeout(r, 10_000))]);
      await Promise.race([settled, new Promise((r) => setTimeout(r, 10_000))]);
      throw signal.reason;
    }
    if ('error' in first) throw first.error;
    return first.value;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

export function createJobContainers(deps: JobContainersDeps): JobContainers {
  const { docker, clock, metrics } = deps;
  let helper: Docker.Container | null = deps.helper ?? null;
  let generation = 0;
  let sequence = 0;

  async function ensureHelper(): Promise<Docker.Container> {
    if (helper) return helper;
    const begin = clock.monotonic();
    const container = await docker.createContainer(helperContainerSpec(deps.spec, ++generation));
    deps.track(container);
    await container.start();
    metrics.containerStartDuration.observe({ type: 'helper' }, (clock.monotonic() - begin) / 1000);
    helper = container;
    return container;
  }

  async function dropHelper(container: Docker.Container): Promise<void> {
    helper = null;
    await killContainer(container).catch(() => undefined);
    await removeContainer(container).catch(() => undefined);
  }

  async function runHelper(
    command: HelperCommand,
    request: HelperRequest,
    output: JobOutput,
    signal: AbortSignal,
  ): Promise<number> {
    if (signal.aborted) throw signal.reason;
    const container = await ensureHelper();
    try {
      return await abortable(
        signal,
        () => execWithStdin(container, helperArgv(command), JSON.stringify(request), output),
        () => dropHelper(container),
      );
    } catch (err) {
      // The engine failed the exec (the helper gone, the engine restarting): the next run of the
      // stage (EXECUTOR_JOB_SECTION_ATTEMPTS) starts a fresh helper instead of the broken one.
      if (!signal.aborted && helper === container) await dropHelper(container);
      throw err;
    }
  }

  async function execInHelper(argv: string[], output: JobOutput): Promise<number> {
    return execWithStdin(await ensureHelper(), argv, '', output);
  }

  async function runScript(
    stage: string,
    image: JobImage | null,
    script: string,
    output: JobOutput,
    signal: AbortSignal,
  ): Promise<number> {
    if (signal.aborted) throw signal.reason;
    const begin = clock.monotonic();
    const container = await docker.createContainer(buildContainerSpec(deps.spec, image, stage, ++sequence));
    deps.track(container);
    try {
      return await abortable(
        signal,
        () =>
          runWithStdin(container, script, output, () =>
            metrics.containerStartDuration.observe({ type: 'build' }, (clock.monotonic() - begin) / 1000),
          ),
        () => killContainer(container),
      );
    } finally {
      await removeContainer(container).catch(() => undefined);
    }
  }

  return { ensureHelper, runHelper, execInHelper, runScript };
}
