/**
 * Two coordinators on one PostgreSQL database (and one shared data dir, as on shared storage): a
 * runner long-polling coordinator A is woken by a pipeline created through coordinator B, over the
 * queue bus (LISTEN/NOTIFY), instead of waiting out its poll window (120 s here, longer than the
 * test's own timeout: without the bus this test fails). Needs the test PostgreSQL; never skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startCoordinator, type RunningCoordinator } from '../../src/cli/start-coordinator.js';
import { silentLogger } from '../../src/shared/logger.js';
import { TestApi } from '../../harness/api-client.js';
import { createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { tempDir } from '../../harness/temp-dir.js';

const PG_URL = process.env.FLOTILLA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PIPELINE = 'job:\n  script: [echo hi]\n';

let dir: { dir: string; remove: () => Promise<void> };
let work: { dir: string; remove: () => Promise<void> };
let a: RunningCoordinator;
let b: RunningCoordinator;

async function start(): Promise<RunningCoordinator> {
  return startCoordinator({
    listen: '127.0.0.1:0',
    dataDir: dir.dir,
    databaseUrl: `${PG_URL}?schema=scaleout_${process.pid}`,
    logger: silentLogger(),
    config: { longPollSeconds: 120 },
  });
}

beforeAll(async () => {
  dir = await tempDir('flotilla-scaleout-');
  work = await tempDir('flotilla-scaleout-work-');
  a = await start();
  b = await start();
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await dir?.remove();
  await work?.remove();
});

async function heldRequests(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('flotilla_coordinator_long_poll_waiters '));
  return Number(line?.split(' ')[1] ?? 0);
}

describe('coordinators sharing a PostgreSQL database', () => {
  it("wake each other's long polls when jobs are queued", async () => {
    const apiA = new TestApi(a.url, a.rootToken);
    const apiB = new TestApi(b.url, b.rootToken);
    const runner = await apiA.createRunner({ description: 'scale-out' });
    const project = await apiA.createProject('scale-out');
    const request = (lastUpdate?: string) =>
      apiA.call('POST', '/jobs/request', {
        token: runner.token,
        info: { name: 'it' },
        ...(lastUpdate ? { last_update: lastUpdate } : {}),
      });
    const first = await request();
    expect(first.status).toBe(204);
    const held = request(first.headers.get('x-gitlab-last-update') ?? '');
    for (let i = 0; i < 400 && (await heldRequests(a.url)) < 1; i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(await heldRequests(a.url)).toBe(1);

    await createWorkRepo(work.dir, { '.gitlab-ci.yml': PIPELINE });
    await pushTo(work.dir, b.url, project.path_with_namespace, b.rootToken);
    const res = await held;
    expect(res.status).toBe(201);
    expect(res.body.job_info.name).toBe('job');
    expect((await apiB.get(`/projects/${project.id}/jobs/${res.body.id}`)).body.status).toBe('running');
  }, 60_000);
});
