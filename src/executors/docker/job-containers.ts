/**
 * The containers of one running job: the long-lived helper container (predefined stages are requests
 * to its `serve` process over one attach, helper-session.ts; it is recreated after a stage was
 * stopped) and one short-lived job-image container per script stage. Stopping a stage kills its container, waits until it is gone, then rejects with the
 * signal's reason.
 */
import type Docker from 'dockerode';

import type { JobImage } from '../../api/runner-api.js';
import type { Clock } from '../../shared/clock.js';
import type { JobOutput } from '../executor.js';
import { execWithStdin, killContainer, removeContainer, runWithStdin } from './docker-client.js';
import type { HelperCommand, HelperRequest } from './helper-request.js';
import { attachHelper, HelperStoppedError, type HelperSession } from './helper-session.js';
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
  /** A helper that is running already, attached (a spare helper the job took over). */
  helper?: HelperSession;
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

/** The engine's own error when the helper is gone (`No such container: …`), else `stopped` as is. */
async function whyStopped(container: Docker.Container, stopped: HelperStoppedError): Promise<unknown> {
  try {
    await container.inspect();
    return stopped;
  } catch (err) {
    return err;
  }
}

async function isRunning(container: Docker.Container): Promise<boolean> {
  try {
    return (await container.inspect()).State.Running;
  } catch {
    return false;
  }
}

/** Creates, starts and attaches a helper container running `serve`. */
async function startHelper(deps: JobContainersDeps, generation: number): Promise<HelperSession> {
  const { clock } = deps;
  const begin = clock.monotonic();
  const container = await deps.docker.createContainer(helperContainerSpec(deps.spec, generation));
  deps.track(container);
  await container.start();
  deps.metrics.containerStartDuration.observe({ type: 'helper' }, (clock.monotonic() - begin) / 1000);
  return attachHelper(container);
}

/** One job-image container per script stage: created, attached with the script on stdin, removed. */
function scriptRunner(deps: JobContainersDeps): JobContainers['runScript'] {
  const { docker, clock, metrics } = deps;
  let sequence = 0;
  return async (stage, image, script, output, signal) => {
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
  };
}

export function createJobContainers(deps: JobContainersDeps): JobContainers {
  let helper: Promise<HelperSession> | null = deps.helper ? Promise.resolve(deps.helper) : null;
  let generation = 0;

  /** The running helper's session; the first caller creates it, concurrent callers share it. */
  function ensureSession(): Promise<HelperSession> {
    if (!helper) {
      const started = startHelper(deps, ++generation);
      helper = started;
      started.catch(() => {
        if (helper === started) helper = null;
      });
    }
    return helper;
  }

  /**
   * The session for a stage. An attach that ended while no stage ran, with the helper still running
   * (a connection to a remote engine cut during a long script), is made again: the helper's stdin
   * stayed open, so `serve` still waits for the next request.
   */
  async function liveSession(): Promise<HelperSession> {
    const current = ensureSession();
    const session = await current;
    if (session.alive || !(await isRunning(session.container))) return session;
    // Another stage's caller attached again meanwhile: share its attach.
    if (helper !== null && helper !== current) return helper;
    const again = attachHelper(session.container);
    helper = again;
    // An attach that failed leaves no session: the helper goes, and the next stage starts a fresh one.
    again.catch(() => {
      if (helper === again) helper = null;
      void dropHelper(session);
    });
    return again;
  }

  async function dropHelper(session: HelperSession): Promise<void> {
    if (helper && (await helper.catch(() => null)) === session) helper = null;
    session.close();
    await killContainer(session.container).catch(() => undefined);
    await removeContainer(session.container).catch(() => undefined);
  }

  async function runHelper(
    command: HelperCommand,
    request: HelperRequest,
    output: JobOutput,
    signal: AbortSignal,
  ): Promise<number> {
    if (signal.aborted) throw signal.reason;
    const session = await liveSession();
    try {
      return await abortable(
        signal,
        () => session.run({ command, request }, output),
        () => dropHelper(session),
      );
    } catch (err) {
      if (signal.aborted) throw err;
      // The helper is gone (removed, the engine restarting): the next run of the stage
      // (EXECUTOR_JOB_SECTION_ATTEMPTS) starts a fresh helper instead of the broken one.
      const reason = err instanceof HelperStoppedError ? await whyStopped(session.container, err) : err;
      await dropHelper(session);
      throw reason;
    }
  }

  async function execInHelper(argv: string[], output: JobOutput): Promise<number> {
    return execWithStdin((await ensureSession()).container, argv, '', output);
  }

  async function ensureHelper(): Promise<Docker.Container> {
    return (await ensureSession()).container;
  }

  return { ensureHelper, runHelper, execInHelper, runScript: scriptRunner(deps) };
}
