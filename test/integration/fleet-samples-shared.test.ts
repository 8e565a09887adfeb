/**
 * The fleet charts' history is kept in the store: two coordinators on one PostgreSQL database
 * both sample (every second here), one sample per interval is kept whichever replica took it,
 * both answer `GET /api/v4/fleet/samples` with the same history, and a coordinator started later
 * shows it too. Needs the test PostgreSQL; never skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startCoordinator, type RunningCoordinator } from '../../src/cli/start-coordinator.js';
import { silentLogger } from '../../src/shared/logger.js';
import { TestApi } from '../../harness/api-client.js';
import { tempDir } from '../../harness/temp-dir.js';

const PG_URL = process.env.FLOTILLA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Samples {
  interval_seconds: number;
  samples: { at: string; pending: number; oldest_wait_seconds: number; machines: number }[];
}

let dir: { dir: string; remove: () => Promise<void> };
const running: RunningCoordinator[] = [];

async function start(): Promise<RunningCoordinator> {
  const c = await startCoordinator({
    listen: '127.0.0.1:0',
    dataDir: dir.dir,
    databaseUrl: `${PG_URL}?schema=fleetsamples_${process.pid}`,
    logger: silentLogger(),
    config: { fleetSampleSeconds: 1 },
  });
  running.push(c);
  return c;
}

async function samples(c: RunningCoordinator): Promise<Samples> {
  const res = await new TestApi(c.url, c.rootToken).get('/fleet/samples');
  expect(res.status).toBe(200);
  return res.body as Samples;
}

/** Both answers, taken until no new sample landed between them. */
async function both(a: RunningCoordinator, b: RunningCoordinator): Promise<[Samples, Samples]> {
  for (;;) {
    const first = await samples(a);
    const other = await samples(b);
    const again = await samples(a);
    if (JSON.stringify(first) === JSON.stringify(again)) return [first, other];
  }
}

beforeAll(async () => {
  dir = await tempDir('flotilla-fleetsamples-');
});

afterAll(async () => {
  await Promise.all(running.map((c) => c.close()));
  await dir?.remove();
});

describe('fleet samples shared by coordinators on one PostgreSQL', () => {
  it('show the same history on every replica, one sample per interval, and outlive a replica', async () => {
    const a = await start();
    const b = await start();
    const api = new TestApi(a.url, a.rootToken);
    await api.until(async () => ((await samples(a)).samples.length >= 4 ? true : undefined), '4 samples');
    const [fromA, fromB] = await both(a, b);
    expect(fromA.interval_seconds).toBe(1);
    expect(fromB).toEqual(fromA);
    // two replicas sampled every second, yet each second has one sample
    const seconds = fromA.samples.map((s) => Math.floor(Date.parse(s.at) / 1000));
    expect(new Set(seconds).size).toBe(seconds.length);
    await b.close();
    const c = await start();
    const [again, fromC] = await both(a, c);
    expect(fromC).toEqual(again);
    expect(again.samples.slice(0, fromA.samples.length)).toEqual(fromA.samples);
  }, 60_000);
});
