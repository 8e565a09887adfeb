/**
 * The `docker-autoscaler` executor: `prepare` takes a slot on a machine of the fleet (waiting for
 * capacity; machines are created on demand) and runs the docker executor, unchanged, against that
 * machine's engine (`tcp://IP:2375`, or TLS with the provider's certificates); every stage is
 * delegated; `cleanup` releases the slot (the machine is removed at max_use_count).
 *
 * A machine that dies (its lease is lost, or its engine stops answering) during prepare or a stage:
 * the job takes a slot on another machine at the front of the queue (keeping its place), prepares
 * again and replays the stages it had run, then the interrupted one, at most `maxAttempts` machines.
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
import type { ConnectInfo } from './providers/provider.js';
import { engineAnswers } from './ready-check.js';
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
}

type Stage = Exclude<BuildStage, 'prepare_executor'>;

export function createDockerAutoscalerExecutorFactory(o: DockerAutoscalerFactoryOptions): ExecutorFactory {
  const docker = dockerConfigSchema.parse(o.docker);
  const factories = new Map<string, ExecutorFactory>();
  const maxAttempts = o.maxAttempts ?? 3;

  function dockerFor(connect: ConnectInfo): ExecutorFactory {
    const key = `${connect.dockerHost}|${connect.tls?.certPath ?? ''}`;
    let f = factories.get(key);
    if (!f) {
      const config: DockerConfig = {
        ...docker,
        host: connect.dockerHost,
        tls_verify: connect.tls !== undefined,
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
  }

  async function dead(lease: Lease): Promise<boolean> {
    if (lease.lost) return true;
    return engineAnswers(lease.connect, 3000).then(
      () => lease.lost,
      () => true,
    );
  }

  function create(job: ExecutorJob): Executor {
    const log = o.logger.child({ jobId: job.payload.id });
    let lease: Lease | null = null;
    let inner: Executor | null = null;
    let attempts = 0;
    const ran: Stage[] = [];

    async function drop(broken: boolean): Promise<void> {
      const i = inner;
      inner = null;
      await i?.cleanup();
      lease?.release({ broken });
      lease = null;
    }

    async function attach(ctx: StageContext): Promise<void> {
      for (;;) {
        attempts++;
        lease = await o.scaler.acquire(`job-${job.payload.id}`, { signal: ctx.signal, front: attempts > 1 });
        ctx.output.write(
          `Running on machine ${lease.connect.id} (${lease.connect.dockerHost}) via docker-autoscaler...\n`,
        );
        log.info({ machine: lease.key, attempt: attempts }, 'job acquired a machine');
        inner = dockerFor(lease.connect).create(job);
        try {
          await inner.prepare(ctx);
          lease.started();
          return;
        } catch (err) {
          if (ctx.signal.aborted || attempts >= maxAttempts || !(await dead(lease))) throw err;
          await lost(ctx, err);
        }
      }
    }

    async function lost(ctx: StageContext, err: unknown): Promise<void> {
      const id = lease?.connect.id ?? '?';
      log.warn({ machine: lease?.key, err }, 'machine died under a job; retrying on another machine');
      ctx.output.write(
        `\nMachine ${id} stopped answering (${errorMessage(err)}); retrying the job on another machine\n`,
      );
      await drop(true);
    }

    async function stage(s: Stage, ctx: StageContext): Promise<StageResult> {
      for (;;) {
        try {
          if (!inner) throw new Error('prepare did not succeed');
          const result = await inner.runStage(s, ctx);
          ran.push(s);
          return result;
        } catch (err) {
          if (ctx.signal.aborted || !lease || attempts >= maxAttempts || !(await dead(lease))) throw err;
          await lost(ctx, err);
          await attach(ctx);
          for (const earlier of ran) await (inner as Executor | null)?.runStage(earlier, ctx);
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

  return {
    name: 'docker-autoscaler',
    shell: 'bash',
    features: DOCKER_FEATURES,
    create,
  } satisfies ExecutorFactory;
}
