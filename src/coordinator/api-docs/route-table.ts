/**
 * The coordinator's route table, read from a real coordinator built over an in-memory store and
 * a throwaway git root (it never listens), and docs/api.md rendered from it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';

import { systemClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/logger.js';
import { buildCoordinator } from '../app.js';
import { defaultCoordinatorConfig } from '../config.js';
import { createGitHost } from '../git/create-git-host.js';
import type { RouteEntry } from '../routes/gitlab-http.js';
import { createMemoryStore } from '../store/create-store.js';
import { renderApiDocs } from './render.js';

export async function coordinatorRoutes(): Promise<RouteEntry[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flotilla-routes-'));
  const store = await createMemoryStore();
  const logger = silentLogger();
  try {
    const coordinator = await buildCoordinator({
      store,
      git: createGitHost({ root: path.join(dir, 'repositories'), logger }),
      config: defaultCoordinatorConfig({
        externalUrl: 'http://127.0.0.1',
        artifactsDir: path.join(dir, 'a'),
      }),
      clock: systemClock,
      logger,
      registry: new Registry(),
    });
    await coordinator.close();
    return coordinator.routes;
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** docs/api.md as the code stands. */
export async function renderCurrentApiDocs(): Promise<string> {
  return renderApiDocs(await coordinatorRoutes());
}
