/**
 * Announced jobs over real HTTP (a Flotilla extension of POST /jobs/request): a runner that asks
 * with X-Flotilla-Announce gets the created jobs of running pipelines it could take, and learns
 * which job handed out was announced; one that does not ask (gitlab-runner) gets neither header.
 * The runner's own client reads them (src/runner/coordinator-client.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { tempDir } from '../../harness/temp-dir.js';
import { createCoordinatorClient } from '../../src/runner/coordinator-client.js';

const PIPELINE = `
stages: [build, test, deploy]
build:
  stage: build
  script: [echo build]
test-a:
  stage: test
  script: [echo a]
test-b:
  stage: test
  script: [echo b]
test-gpu:
  stage: test
  tags: [gpu]
  script: [echo gpu]
deploy:
  stage: deploy
  script: [echo deploy]
`;

let c: TestCoordinator;
let work: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  // Every request reads the store afresh (the default reads at most every 5 s).
  c = await startTestCoordinator({ longPollSeconds: 20, announceRefreshSeconds: 0 });
  work = await tempDir();
});

afterAll(async () => {
  await c.stop();
  await work.remove();
});

function requestJob(token: string, announce: boolean, lastUpdate?: string) {
  return c.api.call(
    'POST',
    '/jobs/request',
    { token, info: { name: 'test' }, ...(lastUpdate ? { last_update: lastUpdate } : {}) },
    announce ? { 'x-flotilla-announce': '1' } : {},
  );
}

async function finish(job: { id: number; token: string }) {
  const res = await c.api.call('PUT', `/jobs/${job.id}`, { token: job.token, state: 'success' });
  expect(res.status).toBe(200);
}

describe('announced jobs', () => {
  it('announces the next stages to a runner that asks, marks announced jobs, and tells gitlab-runner nothing', async () => {
    const runner = await c.api.createRunner({ description: 'plain' });
    const empty = await requestJob(runner.token, true);
    expect(empty.status).toBe(204);
    expect(empty.headers.get('x-flotilla-announced-jobs')).toBe('created=0, next=0, uncovered=0');

    // The pipeline arrives while a long poll is held: the build job is handed out.
    const held = requestJob(runner.token, true, empty.headers.get('x-gitlab-last-update') ?? '');
    const project = await c.api.createProject('announced');
    await createWorkRepo(work.dir, { '.gitlab-ci.yml': PIPELINE });
    await pushTo(work.dir, c.running.url, project.path_with_namespace, c.running.rootToken);
    const build = await held;
    expect(build.status).toBe(201);
    expect(build.body.job_info.name).toBe('build');
    // Read before the claim: build pending; test-a, test-b and deploy created (test-gpu is not this
    // runner's); the build's machine serves one of the two tests.
    expect(build.headers.get('x-flotilla-announced-jobs')).toBe('created=3, next=2, uncovered=1');
    // Per pipeline with uncovered jobs: next stage's jobs / jobs ahead / the youngest's age (pending: 0).
    expect(build.headers.get('x-flotilla-announced-stages')).toBe('2/1/0');
    expect(build.headers.get('x-flotilla-job-announced')).toBeNull();

    // The build runs: its age in whole seconds (the manager estimates when the tests are due).
    const running = await requestJob(runner.token, true);
    expect(running.status).toBe(204);
    expect(running.headers.get('x-flotilla-announced-stages')).toMatch(/^2\/1\/\d+$/);

    // gitlab-runner (no X-Flotilla-Announce) gets no announcement.
    const plain = await requestJob(runner.token, false);
    expect(plain.status).toBe(204);
    expect(plain.headers.get('x-flotilla-announced-jobs')).toBeNull();
    expect(plain.headers.get('x-flotilla-announced-stages')).toBeNull();

    // The build ends: the tests are pending, deploy is announced; the runner's client reads it all.
    await finish({ id: build.body.id, token: build.body.token });
    const runnerClient = (systemId: string, announce: boolean) =>
      createCoordinatorClient({
        url: c.running.url,
        token: runner.token,
        systemId,
        info: { name: 'test' },
        userAgent: 'flotilla-test',
        announce,
      });
    const client = runnerClient('s_announce', true);
    const test = await client.requestJob(new AbortController().signal);
    expect(test.kind).toBe('job');
    if (test.kind !== 'job') return;
    expect(test.payload.job_info.name).toMatch(/^test-[ab]$/);
    expect(test.jobAnnounced).toBe(true);
    // Two tests pending (read before the claim): deploy is covered, so no stage is listed.
    expect(test.announced).toEqual({ created: 1, next: 1, uncovered: 0, stages: [] });

    // Without asking, the client reports no announcement (as against GitLab).
    const quiet = runnerClient('s_quiet', false);
    const other = await quiet.requestJob(new AbortController().signal);
    expect(other.kind).toBe('job');
    if (other.kind !== 'job') return;
    expect(other.announced).toBeUndefined();
    expect(other.jobAnnounced).toBeUndefined();
  });
});
