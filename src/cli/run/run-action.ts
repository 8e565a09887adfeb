/**
 * `flotilla run [DIR]`: runs a directory's `.gitlab-ci.yml` exactly as CI would, through a real
 * coordinator and runner: embedded ones (a throwaway SQLite coordinator and a shell runner in this
 * process), or a running coordinator given by `--url`/`--token` whose runners pick the jobs up.
 * The working tree (uncommitted changes included) is pushed as the project's branch; each job's log
 * streams to the terminal; the exit code is 0 only when the pipeline succeeded. This is the
 * command's action; `run-command.ts` registers it and imports this file only when `run` runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { ProjectResponse } from '../../api/rest-api.js';
import type { RunnerManager } from '../../runner/manager.js';
import { systemClock } from '../../shared/clock.js';
import { FlotillaError } from '../../shared/errors.js';
import { createLogger, type LogLevel, type Logger } from '../../shared/logger.js';
import { startEmbeddedRunner } from '../embedded-runner.js';
import { say, warn } from '../output.js';
import { RestClient } from '../rest-client.js';
import { startCoordinator, type RunningCoordinator } from '../start-coordinator.js';
import { ChangeNotice } from './change-notice.js';
import { watchInterrupts } from './interrupt.js';
import { inProcessFetch } from './in-process-fetch.js';
import { chooseExecutor } from './choose-executor.js';
import { startZygote, type Zygote } from '../../executors/shell/zygote.js';
import { removeRunDockerObjects, runDockerConfig } from './docker-runner.js';
import { canPushLocally, localRepositoryFor, pushLocally } from './local-push.js';
import { prepareSource, sourceDirectory, type PreparedSource } from './prepare-source.js';
import { pushSnapshot } from './snapshot.js';
import { PipelineWatcher, summaryLines } from './watch-pipeline.js';

export interface RunFlags {
  url?: string;
  token?: string;
  executor: string;
  image: string;
  concurrent: string;
  keep?: boolean;
  verbose?: boolean;
  color: boolean;
}

interface Target {
  url: string;
  token: string;
  coordinator: RunningCoordinator | null;
  runner: RunnerManager | null;
  executor: string | null;
  /** The throwaway runner's token (its Docker objects are removed after the run). */
  runnerToken: string | null;
  /** Notified when the embedded runner ends a job. */
  changes: ChangeNotice | null;
  /** The HTTP client of the CLI's own calls: in-process for the embedded coordinator. */
  fetch: typeof fetch;
  /** What starts the embedded shell runner's processes. */
  zygote: Zygote | null;
}

/**
 * The embedded runner sends a job's new log lines at most once a second (the trace update
 * interval it is told); the log follower polls at the same pace, since a faster poll finds no new
 * lines and costs the coordinator's thread a pipeline, a job list and each running job's trace.
 * The end of each job's log still comes whole, and the runner going idle wakes the follower at once.
 */
const EMBEDDED_TRACE_UPDATE_S = 1;

/** `--concurrent`, checked before anything starts (a service left running would keep the process). */
function concurrentJobs(flags: RunFlags): number {
  const concurrent = Number(flags.concurrent);
  if (!Number.isInteger(concurrent) || concurrent < 1) {
    throw new FlotillaError(
      'FLO_ERR_CONFIG_INVALID',
      `--concurrent must be a positive integer, got "${flags.concurrent}"`,
    );
  }
  return concurrent;
}

async function embeddedTarget(scratch: string, flags: RunFlags, level: LogLevel): Promise<Target> {
  const concurrent = concurrentJobs(flags);
  const logger = createLogger({ level, format: 'text', name: 'flotilla' });
  const coordinator = await startCoordinator({
    listen: '127.0.0.1:0',
    dataDir: path.join(scratch, 'coordinator'),
    logger,
    // Deleted at the end of the run (unless --keep, which keeps what a clean exit wrote).
    throwaway: true,
    config: {
      longPollSeconds: 30,
      traceUpdateIntervalIdle: EMBEDDED_TRACE_UPDATE_S,
      traceUpdateIntervalWatched: EMBEDDED_TRACE_UPDATE_S,
      watchdogIntervalSeconds: 1,
    },
  });
  try {
    return await embeddedParts(coordinator, scratch, flags, concurrent, logger);
  } catch (err) {
    // A failure after the coordinator is up (a refused runner registration, no executor) must
    // not leave it open: its listener would keep the process running after the error.
    await coordinator.close().catch(() => undefined);
    throw err;
  }
}

async function embeddedParts(
  coordinator: RunningCoordinator,
  scratch: string,
  flags: RunFlags,
  concurrent: number,
  logger: Logger,
): Promise<Target> {
  const changes = new ChangeNotice();
  // The runner and the log follower call the coordinator of this process without sockets.
  const direct = inProcessFetch(coordinator.coordinator.app, coordinator.url);
  const client = new RestClient(coordinator.url, coordinator.rootToken, direct);
  const created = await client.createRunner('flotilla run');
  const choice = await chooseExecutor(flags.executor);
  say(`Executor: ${choice.executor} (${choice.reason})`);
  // The shell jobs' processes are forked by a zygote, started with the first of them.
  const zygote =
    choice.executor === 'shell' ? startZygote(path.join(scratch, 'zygote'), { lazy: true }) : null;
  let runner: RunnerManager | null = null;
  runner = await startEmbeddedRunner({
    url: coordinator.url,
    token: created.token,
    name: 'flotilla-run',
    executor: choice.executor,
    // Per-job networks; containers reach the coordinator on loopback through a forwarder.
    ...(choice.executor === 'docker' ? { docker: runDockerConfig(flags.image) } : {}),
    buildsDir: path.join(scratch, 'builds'),
    cacheDir: path.join(scratch, 'cache'),
    concurrent,
    logger,
    checkInterval: 1,
    fetch: direct,
    // The builds directory is thrown away with the run: jobs share one fetch per commit, made
    // from the coordinator's repository on this host (no smart HTTP).
    sharedSources: true,
    ...(zygote ? { launcher: zygote } : {}),
    localRepositoryFor: localRepositoryFor(
      coordinator.url,
      path.join(scratch, 'coordinator', 'repositories'),
    ),
    // Archives go to the coordinator of this process, on this host, and are thrown away with the
    // run: stored undeflated (still zip files), moved without a socket, downloads streamed, each
    // upload's multipart body built in one buffer (no FormData, so no undici).
    artifacts: {
      compress: false,
      bufferUploads: true,
      fetch: inProcessFetch(coordinator.coordinator.app, coordinator.url, fetch, { streamAnswers: true }),
    },
    // When the runner is idle the pipeline may be complete: look at once rather than at the next poll.
    onJobEnded: () => {
      if (runner?.runningJobs().length === 0) changes.notify();
    },
  }).catch((err: unknown) => {
    zygote?.close();
    throw err;
  });
  return {
    url: coordinator.url,
    token: coordinator.rootToken,
    coordinator,
    runner,
    executor: choice.executor,
    runnerToken: created.token,
    changes,
    fetch: direct,
    zygote,
  };
}

async function remoteTarget(flags: RunFlags): Promise<Target> {
  const token = flags.token ?? process.env['FLOTILLA_TOKEN'];
  if (!token)
    throw new FlotillaError(
      'FLO_ERR_CONFIG_INVALID',
      '--url needs --token (or FLOTILLA_TOKEN): an access token of the coordinator',
    );
  return {
    url: flags.url ?? '',
    token,
    coordinator: null,
    runner: null,
    executor: null,
    runnerToken: null,
    changes: null,
    fetch,
    zygote: null,
  };
}

async function ensureProject(client: RestClient, name: string, embedded: boolean) {
  const existing = embedded ? null : await client.findProject(`root/${name}`);
  return existing ?? client.createProject(name);
}

/** Pushes the snapshot (in place to an embedded coordinator) and answers its push pipeline's id. */
async function pushSource(
  target: Target,
  client: RestClient,
  source: PreparedSource,
  project: ProjectResponse,
): Promise<number> {
  const { snapshot } = source;
  if (target.coordinator && canPushLocally(snapshot))
    return pushLocally(target.coordinator, project.id, snapshot);
  const remote = new URL(project.http_url_to_repo);
  remote.username = 'root';
  remote.password = target.token;
  await pushSnapshot(source.repoDir, remote.toString(), snapshot);
  const pipeline = await client.until(
    async () => (await client.pipelines(project.id, `?sha=${snapshot.sha}&source=push`))[0],
    'the pipeline of the pushed commit',
  );
  return pipeline.id;
}

async function runPipeline(
  target: Target,
  prepared: Promise<PreparedSource>,
  flags: RunFlags,
): Promise<boolean> {
  const client = new RestClient(target.url, target.token, target.fetch);
  const source = await prepared;
  const project = await ensureProject(client, source.projectName, target.coordinator !== null);
  say(
    `Running ${project.path_with_namespace} at ${source.snapshot.sha.slice(0, 8)}${source.snapshot.dirty ? ' (with uncommitted changes)' : ''} on ${target.url} (executor: ${target.executor ?? "the coordinator's runners"})`,
  );
  const pipelineId = await pushSource(target, client, source, project);
  const watcher = new PipelineWatcher({
    client,
    projectId: project.id,
    pipelineId,
    clock: systemClock,
    write: say,
    color: flags.color && process.stdout.isTTY === true,
    ...(target.changes ? { changes: target.changes, pollMs: EMBEDDED_TRACE_UPDATE_S * 1000 } : {}),
  });
  const result = await watcher.run();
  for (const line of summaryLines(result)) say(line);
  return result.pipeline.status === 'success';
}

/** The action of `flotilla run`, loaded only when that command runs. */
export async function runCommand(dirArg: string | undefined, flags: RunFlags): Promise<void> {
  const dir = await sourceDirectory(dirArg ?? '.');
  const scratch = await mkdtemp(path.join(tmpdir(), 'flotilla-run-'));
  const level: LogLevel = flags.verbose ? 'info' : 'warn';
  let target: Target | null = null;
  // The snapshot (git, in other processes) runs while the coordinator and runner start.
  const prepared = prepareSource(dir, scratch);
  prepared.catch(() => undefined);
  const interruption = watchInterrupts();
  let interrupted: 'SIGINT' | 'SIGTERM' | null = null;
  try {
    target = flags.url ? await remoteTarget(flags) : await embeddedTarget(scratch, flags, level);
    const pipeline = runPipeline(target, prepared, flags);
    pipeline.catch(() => undefined);
    const outcome = await Promise.race([pipeline, interruption.signal]);
    if (typeof outcome === 'string') {
      interrupted = outcome;
      warn(`${outcome}: stopping the running jobs`);
    } else if (!outcome) process.exitCode = 1;
  } finally {
    await target?.runner?.stop({ graceful: false });
    target?.zygote?.close();
    if (target?.executor === 'docker' && target.runnerToken) await removeRunDockerObjects(target.runnerToken);
    await target?.coordinator?.close();
    if (flags.keep) warn(`kept the run's data in ${scratch}`);
    else await rm(scratch, { recursive: true, force: true });
    interruption.dispose();
  }
  // the log follower may still be waiting on the closed coordinator: nothing is left to do
  if (interrupted) process.exit(interruption.exitCode(interrupted));
}
