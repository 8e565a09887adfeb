/**
 * A runner manager inside the current process, for `flotilla up` and `flotilla run`: the same
 * manager as `flotilla runner run`, fed a config object instead of a file.
 */

import { validateConfig } from '../config/load.js';
import { randomSystemId } from '../config/system-id.js';
import { createRunnerManager, type RunnerManager } from '../runner/manager.js';
import { FLOTILLA_VERSION } from '../runner/version.js';
import { systemClock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { runnerExecutors } from './executors.js';

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
    ...runnerExecutors(options.logger),
    version: FLOTILLA_VERSION,
  });
  await manager.start();
  return manager;
}
