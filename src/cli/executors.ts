/**
 * The executors this build ships, wired for a runner manager: `shell` as is, `docker` built per
 * `[[runners]]` entry from its `[runners.docker]` table. Also removes what a crashed manager left
 * on its Docker engines.
 */
import { Registry } from 'prom-client';

import type { Config, RunnerConfig } from '../config/schema.js';
import { cleanupLeftovers } from '../executors/docker/cleanup.js';
import { connectDocker } from '../executors/docker/docker-client.js';
import { createDockerExecutorFactory } from '../executors/docker/docker-executor-factory.js';
import type { ExecutorFactory } from '../executors/executor.js';
import { createShellExecutorFactory } from '../executors/shell/shell-executor.js';
import { FLOTILLA_VERSION, shortToken } from '../runner/version.js';
import { systemClock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

export interface RunnerExecutors {
  registry: Registry;
  executorFactories: ExecutorFactory[];
  executorFactoryFor: (entry: RunnerConfig) => ExecutorFactory | undefined;
}

export function runnerExecutors(logger: Logger, registry = new Registry()): RunnerExecutors {
  const docker = (config: RunnerConfig['docker'] | Record<string, never>): ExecutorFactory =>
    createDockerExecutorFactory({ config, logger, registry, clock: systemClock, version: FLOTILLA_VERSION });
  return {
    registry,
    executorFactories: [createShellExecutorFactory(), docker({})],
    executorFactoryFor: (entry) => (entry.executor === 'docker' ? docker(entry.docker) : undefined),
  };
}

/** Removes containers, networks and volumes that a previous run of these docker entries left behind. */
export async function cleanupDockerLeftovers(config: Config, logger: Logger): Promise<void> {
  for (const entry of config.runners.filter((r) => r.executor === 'docker')) {
    try {
      const report = await cleanupLeftovers(connectDocker(entry.docker).docker, shortToken(entry.token));
      logger.info({ runner: shortToken(entry.token), ...report }, 'docker leftovers cleaned');
    } catch (err) {
      logger.warn(
        { runner: shortToken(entry.token), err: errorMessage(err) },
        'docker leftovers not cleaned: engine unreachable',
      );
    }
  }
}
