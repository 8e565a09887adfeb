import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { systemClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { applyWanted, createFleetReporter, type FleetReporterOptions } from './fleet-reporter.js';
import { autoscalerMetrics } from './metrics.js';
import { writeControl } from './state-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flotilla-reporter-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const read = async (p: string): Promise<unknown> => JSON.parse(await readFile(p, 'utf8'));

describe('applyWanted', () => {
  it('applies each request once, keeps other providers, and lets a later CLI change stand', async () => {
    const file = path.join(dir, 'fleet-control.json');
    await writeControl(file, { providers: { gcp: false } });
    const t1 = '2026-01-01T00:00:00.000Z';
    expect(await applyWanted(file, [{ provider: 'aws', manual: 'paused', requested_at: t1 }])).toEqual([
      'aws',
    ]);
    expect(await read(file)).toEqual({ providers: { gcp: false, aws: true }, applied: { aws: t1 } });
    await writeControl(file, { providers: { gcp: false }, applied: { aws: t1 } });
    expect(await applyWanted(file, [{ provider: 'aws', manual: 'paused', requested_at: t1 }])).toEqual([]);
    expect(await read(file)).toEqual({ providers: { gcp: false }, applied: { aws: t1 } });
    const t2 = '2026-01-01T00:01:00.000Z';
    await Promise.all([
      applyWanted(file, [{ provider: 'gcp', manual: 'auto', requested_at: t2 }]),
      applyWanted(file, [{ provider: 'aws', manual: 'unpaused', requested_at: t2 }]),
    ]);
    expect(await read(file)).toEqual({ providers: { aws: false }, applied: { aws: t2, gcp: t2 } });
  });
});

describe('fleet reporter', () => {
  it('stops reporting to a coordinator without the extension (404)', async () => {
    let calls = 0;
    const reporter = createFleetReporter({
      url: 'http://coordinator.invalid/',
      token: 'glrt-x',
      systemId: 's_1',
      runnerName: 'r',
      fleet: {
        metrics: autoscalerMetrics(new Registry()),
        group: { status: () => [], connectInfo: () => Promise.reject(new Error('none')) },
        scaler: { machines: () => [] },
      } as unknown as FleetReporterOptions['fleet'],
      controlPath: path.join(dir, 'fleet-control.json'),
      clock: systemClock,
      logger: silentLogger(),
      fetch: (url) => {
        calls += 1;
        expect(String(url)).toBe('http://coordinator.invalid/api/v4/runners/fleet');
        return Promise.resolve(new Response('{"message":"404 Not Found"}', { status: 404 }));
      },
    });
    expect(await reporter.report()).toBe(false);
    expect(await reporter.report()).toBe(false);
    expect(calls).toBe(1);
  });
});
