import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { validateConfig } from '../runner/config/load.js';
import { isFlotillaError } from '../shared/errors.js';
import { silentLogger } from '../shared/logger.js';
import { runnerExecutors } from './executors.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'runner-executors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const shellOnly = () =>
  validateConfig({
    runners: [{ url: 'http://127.0.0.1:8080', token: 'glrt-abcdefghijkl', executor: 'shell' }],
  }).config;

describe('runnerExecutors().startFleets', () => {
  it('refuses a provider plugin path that does not exist even when no entry is autoscaled', async () => {
    const missing = path.join(dir, 'no-such-plugin.mjs');
    const executors = runnerExecutors(silentLogger(), new Registry(), {
      FLOTILLA_PROVIDER_PLUGINS: missing,
    });
    const err = await executors
      .startFleets(shellOnly(), path.join(dir, 'config.toml'))
      .catch((e: unknown) => e);
    expect(isFlotillaError(err, 'FLO_ERR_CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toBe(
      `FLOTILLA_PROVIDER_PLUGINS: "${missing}" cannot be loaded: ${missing} does not exist`,
    );
  });

  it('starts a config without autoscaled entries and without plugins', async () => {
    const executors = runnerExecutors(silentLogger(), new Registry(), {});
    await expect(executors.startFleets(shellOnly(), path.join(dir, 'config.toml'))).resolves.toBeUndefined();
    await executors.stopFleets();
  });
});
