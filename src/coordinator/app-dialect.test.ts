/**
 * How the scheduler lets updates of running jobs go before claims follows the store's dialect
 * (SchedulerDeps.prioritiseUpdates): the claim gate's turns on SQLite; on PostgreSQL the store's
 * connection lanes do it and the gate only bounds the claims in flight. The quiet finish is on for
 * both. It was decided by the queue bus's presence, so a SQLite coordinator given a bus (or
 * a PostgreSQL one without) got the other dialect's setting.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';

import { systemClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { buildCoordinator } from './app.js';
import { defaultCoordinatorConfig } from './config.js';
import { createGitHost } from './git/create-git-host.js';
import type { QueueBus } from './scheduler/queue/runner-queue.js';
import { createMemoryStore } from './store/create-store.js';
import type { Store } from './store/store.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function prioritised(options: {
  dialect: Store['dialect'];
  bus: boolean;
}): Promise<boolean | undefined> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flotilla-dialect-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const real = await createMemoryStore();
  cleanups.push(() => real.close());
  // Only the dialect is PostgreSQL's: nothing in building the coordinator runs a query.
  const store = new Proxy(real, {
    get: (target, key) => {
      if (key === 'dialect') return options.dialect;
      if (key === 'connections') return options.dialect === 'postgres' ? 7 : undefined;
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const bus: QueueBus = { publish: () => undefined, subscribe: () => undefined };
  const logger = silentLogger();
  const coordinator = await buildCoordinator({
    store,
    git: createGitHost({ root: path.join(dir, 'repositories'), logger }),
    config: defaultCoordinatorConfig({ externalUrl: 'http://127.0.0.1', artifactsDir: path.join(dir, 'a') }),
    clock: systemClock,
    logger,
    registry: new Registry(),
    queueBus: options.bus ? bus : undefined,
  });
  cleanups.push(() => coordinator.close());
  // PostgreSQL: claims in flight are bounded by the store's connections (ClaimGate.bounded).
  if (options.dialect === 'postgres') expect(coordinator.scheduler.claimGate.bound).toBe(7);
  return coordinator.scheduler.deps.prioritiseUpdates;
}

describe('updates before claims', () => {
  it('is on for SQLite, with or without a queue bus', async () => {
    expect(await prioritised({ dialect: 'sqlite', bus: false })).toBe(true);
    expect(await prioritised({ dialect: 'sqlite', bus: true })).toBe(true);
  });

  it('is off for PostgreSQL, with or without a queue bus', async () => {
    expect(await prioritised({ dialect: 'postgres', bus: true })).toBe(false);
    expect(await prioritised({ dialect: 'postgres', bus: false })).toBe(false);
  });
});
