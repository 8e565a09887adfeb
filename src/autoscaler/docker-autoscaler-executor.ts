/**
 * The `docker-autoscaler` executor: `prepare` takes a slot on a machine of the fleet (waiting for
 * capacity; machines are created on demand) and runs the docker executor, unchanged, against that
 * machine's engine (`tcp://IP:2375`, or TLS with the provider's certificates); every stage is
 * delegated; `cleanup` releases the slot (the machine is removed at max_use_count).
 *
 * While prepare or a stage runs, a liveness watch pings the machine's engine (machine-watch.ts): a
 * machine that dies (its lease is lost, its engine stops answering, or a stage fails and the engine
 * then does not answer) is removed and the job takes a slot on another machine at the front of the
 * queue (keeping its place), prepares again, replays the stages that had succeeded, then the
 * interrupted one, at most `maxAttempts` machines; the job log says which machine was lost and why.
 */
import type { Registry } from 'prom-client';

import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { createDockerExecutorFactory, DOCKER_FEATURES } from '../executors/docker/docker-executor-factory.js';
import {
  dockerConfigSchema,
  type DockerConfig,
  type DockerConfigInput,
} from '../executors/docker/docker-config.js';
import type {
  BuildStage,
  Executor,
  ExecutorFactory,
  ExecutorJob,
  StageContext,
  StageResult,
} from '../executors/executor.js';
import { DEFAULT_LIVENESS, MachineLostError, whileAlive, type LivenessOptions } from './machine-watch.js';
import type { ConnectInfo } from './providers/provider.js';
import { engineAnswers } from './ready-check.js';
import type { AnnouncementBox } from './announcements.js';
import type { Lease, Taskscaler } from './taskscaler.js';

export interface DockerAutoscalerFactoryOptions {
  scaler: Pick<Taskscaler, 'acquire'>;
  /** The `[runners.docker]` table; `host`, `tls_verify` and `tls_cert_path` are set per machine. */
  docker: DockerConfig | DockerConfigInput;
  logger: Logger;
  registry: Registry;
  clock: Clock;
  version: string;
  /** Machines one job may try (default 3). */
  maxAttempts?: number;
  /** The liveness watch while a stage runs (default: a ping every 5 s, lost after 3 misses). */
  liveness?: Partial<Omit<LivenessOptions, 'clock' | 'ping'>>;
  /** Pings a machine's engine (default: `GET /_ping` through the Engine API). */
  ping?: LivenessOptions['ping'];
  /** The executor factory for a machine (default: the docker executor against its engine). */
  machineExecutors?: (connect: ConnectInfo) => ExecutorFactory;
  /** With `announced_jobs`: the entry's announced jobs (its job requests then ask for them). */
  announcements?: AnnouncementBox;
}

const CLEANUP_TIMEOUT_MS = 60_000;
const RED = '\x1b[31;1m';
const YELLOW = '\x1b[0;33m';
const RESET = '\x1b[0;m';

function bounded(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

type Stage = Exclude<BuildStage, 'prepare_executor'>;

/** The docker executor factory of each machine's engine, made once per engine address and certificates. */
function machineDockerFactories(
  o: DockerAutoscalerFactoryOptions,
  docker: DockerConfig,
): (connect: ConnectInfo) => ExecutorFactory {
  const factories = new Map<string, ExecutorFactory>();
  return (connect) => {
    const key = `${connect.dockerHost}|${connect.tls?.certPath ?? ''}`;
    let f = factories.get(key);
    if (!f) {
      const config: DockerConfig = {
        ...docker,
        host: connect.dockerHost,
        tls_verify: connect.tls !== undefined,
        ...(connect.forwardCoordinator && docker.coordinator_forwarding === 'auto'
          ? { coordinator_forwarding: 'always' as const }
          : {}),
        ...(connect.tls ? { tls_cert_path: connect.tls.certPath } : {}),
      };
      f = createDockerExecutorFactory({
        config,
        logger: o.logger,
        registry: o.registry,
        clock: o.clock,
        version: o.version,
        env: {},
      });
      factories.set(key, f);
    }
    return f;
  };
}

/** Whether `err` means the machine is gone: the watch said so, or its engine no longer answers. */
async function machineDead(liveness: LivenessOptions, lease: Lease, err: unknown): Promise<boolean> {
  if (err instanceof MachineLostError || lease.lost) return true;
  return liveness.ping(lease.connect, liveness.timeoutMs).then(
    () => lease.lost,
    () => true,
  );
}

/** What every job's executor shares: the fleet, the liveness watch and each machine's executor factory. */
interface MachineJobDeps {
  o: DockerAutoscalerFactoryOptions;
  liveness: LivenessOptions;
  maxAttempts: number;
  executorFor: (connect: ConnectInfo) => ExecutorFactory;
}

/** Tells the job log that machine `id` was lost: the job goes on from `from` on another, or gives up. */
function sayMachineLost(
  ctx: StageContext,
  m: { id: string; reason: string; attempts: number; maxAttempts: number; from: BuildStage },
): void {
  if (m.attempts >= m.maxAttempts) {
    ctx.output.write(
      `${RED}ERROR: Machine ${m.id} was lost (${m.reason}); ${m.attempts} machines tried${RESET}\n`,
    );
    throw new MachineLostError(m.id, `${m.reason}; gave up after ${m.attempts} machines`);
  }
  ctx.output.write(
    `\n${YELLOW}WARNING: Machine ${m.id} was lost (${m.reason}).${RESET}\n` +
      `${YELLOW}Retrying the job on another machine from ${m.from} (machine ${m.attempts + 1} of ${m.maxAttempts})...${RESET}\n`,
  );
}

/** Runs the stages that had succeeded again on a new machine; throws when one fails there. */
async function replayStages(
  ran: readonly Stage[],
  ctx: StageContext,
  run: (stage: Stage) => Promise<StageResult>,
): Promise<void> {
  if (ran.length === 0) return;
  ctx.output.write(`Running the finished stages again on the new machine: ${ran.join(', ')}\n`);
  for (const earlier of ran) {
    const { exitCode } = await run(earlier);
    if (exitCode !== 0) throw new Error(`${earlier} failed again on the new machine (exit code ${exitCode})`);
  }
}

/** Takes a slot on a machine (at the front of the queue after the first machine) and says which. */
async function acquireMachine(
  o: DockerAutoscalerFactoryOptions,
  job: ExecutorJob,
  ctx: StageContext,
  a: { attempts: number; log: Logger },
): Promise<Lease> {
  const front = a.attempts > 1;
  const announced = !front && (o.announcements?.takeAnnounced(job.payload.id) ?? false);
  const l = await o.scaler.acquire(`job-${job.payload.id}`, {
    signal: ctx.signal,
    front,
    ...(announced ? { announced } : {}),
  });
  ctx.output.write(`Running on machine ${l.connect.id} (${l.connect.dockerHost}) via docker-autoscaler...\n`);
  a.log.info({ machine: l.key, attempt: a.attempts }, 'job acquired a machine');
  return l;
}

/** One job's executor: a slot on a machine, moving to another (and replaying) when its machine is lost. */
function createJobExecutor(job: ExecutorJob, d: MachineJobDeps): Executor {
  const { o, liveness, maxAttempts } = d;
  const log = o.logger.child({ jobId: job.payload.id });
  let lease: Lease | null = null;
  let inner: Executor | null = null;
  let attempts = 0;
  const ran: Stage[] = [];

  async function drop(broken: boolean): Promise<void> {
    const i = inner;
    const l = lease;
    inner = null;
    lease = null;
    // A lost machine is being removed with everything on it; its engine may never answer.
    if (i && !broken && !l?.lost) await bounded(i.cleanup(), CLEANUP_TIMEOUT_MS);
    l?.release({ broken });
  }

  function onMachine<T>(ctx: StageContext, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (!lease) throw new Error('the job has no machine (its preparation failed or its machine was lost)');
    return whileAlive(liveness, lease, ctx.signal, work);
  }

  const runOnMachine = (s: Stage, ctx: StageContext): Promise<StageResult> =>
    onMachine(ctx, (signal) => (inner as Executor).runStage(s, { ...ctx, signal }));

  async function attach(ctx: StageContext): Promise<void> {
    for (;;) {
      attempts++;
      const l = await acquireMachine(o, job, ctx, { attempts, log });
      lease = l;
      const i = d.executorFor(l.connect).create(job);
      inner = i;
      try {
        await onMachine(ctx, (signal) => i.prepare({ ...ctx, signal }));
        l.started();
        return;
      } catch (err) {
        await leaveLostMachine(ctx, err, 'prepare_executor');
      }
    }
  }

  /** Rethrows unless the machine is lost; else removes it and says so in the job log. */
  async function leaveLostMachine(ctx: StageContext, err: unknown, from: BuildStage): Promise<void> {
    const l = lease;
    if (ctx.signal.aborted || !l || !(await machineDead(liveness, l, err))) throw err;
    const reason =
      err instanceof MachineLostError
        ? err.reason
        : `${errorMessage(err)}; then its Docker Engine did not answer`;
    log.warn({ machine: l.key, err, attempt: attempts }, 'machine lost under a job');
    await drop(true);
    sayMachineLost(ctx, { id: l.connect.id, reason, attempts, maxAttempts, from });
  }

  async function stage(s: Stage, ctx: StageContext): Promise<StageResult> {
    let moved = false;
    for (;;) {
      try {
        if (moved) await replayStages(ran, ctx, (earlier) => runOnMachine(earlier, ctx));
        moved = false;
        const result = await runOnMachine(s, ctx);
        if (result.exitCode === 0) ran.push(s);
        return result;
      } catch (err) {
        await leaveLostMachine(ctx, err, s);
        await attach(ctx);
        moved = true;
      }
    }
  }

  return {
    prepare: attach,
    runStage: stage,
    async cleanup() {
      try {
        await drop(false);
      } catch (err) {
        log.warn({ err }, 'cleanup on the machine failed');
        lease?.release({ broken: true });
        lease = null;
      }
    },
  };
}

export function createDockerAutoscalerExecutorFactory(o: DockerAutoscalerFactoryOptions): ExecutorFactory {
  const docker = dockerConfigSchema.parse(o.docker);
  const deps: MachineJobDeps = {
    o,
    liveness: { clock: o.clock, ping: o.ping ?? engineAnswers, ...DEFAULT_LIVENESS, ...o.liveness },
    maxAttempts: o.maxAttempts ?? 3,
    executorFor: o.machineExecutors ?? machineDockerFactories(o, docker),
  };
  return {
    name: 'docker-autoscaler',
    shell: 'bash',
    features: DOCKER_FEATURES,
    ...(o.announcements ? { announcements: o.announcements } : {}),
    create: (job) => createJobExecutor(job, deps),
  } satisfies ExecutorFactory;
}
