/**
 * A runner manager inside the current process, for `flotilla up` and `flotilla run`: the same
 * manager as `flotilla runner run`, fed a config object instead of a file.
 */

import { Registry } from 'prom-client';

import { validateConfig } from '../runner/config/load.js';
import { randomSystemId } from '../runner/config/system-id.js';
import { createShellExecutorFactory, type ShellExecutorOptions } from '../executors/shell/shell-executor.js';
import type { LocalRepositoryFor } from '../executors/shell/shared-sources.js';
import { createRunnerManager, type RunnerManager, type RunnerManagerOptions } from '../runner/manager.js';
import { FLOTILLA_VERSION } from '../runner/version.js';
import { systemClock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';

export interface EmbeddedRunnerOptions {
  url: string;
  token: string;
  name: string;
  executor: string;
  buildsDir: string;
  cacheDir: string;
  concurrent: number;
  logger: Logger;
  checkInterval?: number;
  listenAddress?: string;
  /** `[runners.docker]` for the docker executor. */
  docker?: Record<string, unknown>;
  /** Shell executor: one fetch per sha into a shared store (see shell/shared-sources.ts). */
  sharedSources?: boolean;
  /** With `sharedSources`: the embedded coordinator's repository directory of a `repo_url`. */
  localRepositoryFor?: LocalRepositoryFor;
  /** Replaces the HTTP client of the Runner API calls (see RunnerManagerOptions.fetch). */
  fetch?: typeof fetch;
  /** Shell executor: how artifacts are uploaded (see ShellExecutorOptions.artifacts). */
  artifacts?: ShellExecutorOptions['artifacts'];
  /** Shell executor: what starts the stages' processes (see ShellExecutorOptions.launcher). */
  launcher?: ShellExecutorOptions['launcher'];
  /** Called when a job has ended (see RunnerManagerOptions.onJobEnded). */
  onJobEnded?: (jobId: number) => void;
}

type Executors = Pick<RunnerManagerOptions, 'registry' | 'executorFactories' | 'executorFactoryFor'>;

/** The shell executor alone, or every executor (docker and autoscaler modules load only then). */
async function executorsFor(options: EmbeddedRunnerOptions): Promise<Executors> {
  if (options.executor === 'shell') {
    const shell = createShellExecutorFactory({
      sharedSources: options.sharedSources === true,
      ...(options.localRepositoryFor ? { localRepositoryFor: options.localRepositoryFor } : {}),
      ...(options.artifacts ? { artifacts: options.artifacts } : {}),
      ...(options.launcher ? { launcher: options.launcher } : {}),
    });
    return { registry: new Registry(), executorFactories: [shell] };
  }
  const { runnerExecutors } = await import('./executors.js');
  const all = runnerExecutors(options.logger);
  return {
    registry: all.registry,
    executorFactories: all.executorFactories,
    executorFactoryFor: all.executorFactoryFor,
  };
}

export async function startEmbeddedRunner(options: EmbeddedRunnerOptions): Promise<RunnerManager> {
  const { config } = validateConfig(
    {
      concurrent: options.concurrent,
      check_interval: options.checkInterval ?? 1,
      ...(options.listenAddress ? { listen_address: options.listenAddress } : {}),
      runners: [
        {
          name: options.name,
          url: options.url,
          token: options.token,
          executor: options.executor,
          builds_dir: options.buildsDir,
          cache_dir: options.cacheDir,
          limit: options.concurrent,
          request_concurrency: 1,
          ...(options.docker ? { docker: options.docker } : {}),
        },
      ],
    },
    'embedded runner',
  );
  const manager = createRunnerManager({
    config,
    baseDir: options.buildsDir,
    systemId: randomSystemId(),
    logger: options.logger,
    clock: systemClock,
    ...(await executorsFor(options)),
    version: FLOTILLA_VERSION,
    ...(options.onJobEnded ? { onJobEnded: options.onJobEnded } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  await manager.start();
  return manager;
}
