import { startCoordinator, type RunningCoordinator } from '../src/cli/start-coordinator.js';
import type { CoordinatorConfig } from '../src/coordinator/config.js';
import { silentLogger } from '../src/shared/logger.js';
import { TestApi } from './api-client.js';
import { tempDir } from './temp-dir.js';

export interface TestCoordinator {
  running: RunningCoordinator;
  api: TestApi;
  dataDir: string;
  stop(): Promise<void>;
}

/** A real coordinator on 127.0.0.1 with a random port and a fresh SQLite data dir. */
export async function startTestCoordinator(
  config: Partial<CoordinatorConfig> = {},
  dataDir?: string,
): Promise<TestCoordinator> {
  const tmp = dataDir ? null : await tempDir('flotilla-coord-');
  const dir = dataDir ?? tmp!.dir;
  const running = await startCoordinator({
    listen: '127.0.0.1:0',
    dataDir: dir,
    logger: silentLogger(),
    config,
  });
  return {
    running,
    api: new TestApi(running.url, running.rootToken),
    dataDir: dir,
    stop: async () => {
      await running.close();
      await tmp?.remove();
    },
  };
}
