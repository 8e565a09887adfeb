/**
 * Property-based fuzzing of the coordinator's HTTP surface with a fixed seed (FLOTILLA_FUZZ_SEED
 * and FLOTILLA_FUZZ_RUNS override it): random requests over the app's own route table, with odd
 * path parameters, query strings, headers and bodies, some with the admin token. No request may
 * get a 5xx, and the server keeps answering. The longer run is `npm run bench -- --only fuzz`.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fuzzRequest, type FuzzRequest } from '../../harness/fuzz/http-arbitraries.js';
import { createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { tempDir } from '../../harness/temp-dir.js';

const SEED = Number(process.env['FLOTILLA_FUZZ_SEED'] ?? 20261205);
const RUNS = Number(process.env['FLOTILLA_FUZZ_RUNS'] ?? 400);

let c: TestCoordinator;
let work: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  c = await startTestCoordinator({ longPollSeconds: 1 });
  work = await tempDir();
  await c.api.createRunner({ description: 'fuzz' });
  const project = await c.api.createProject('fuzz');
  await createWorkRepo(work.dir, { '.gitlab-ci.yml': 'build:\n  script: [echo]\n' });
  await pushTo(work.dir, c.running.url, project.path_with_namespace, c.running.rootToken);
});

afterAll(async () => {
  await c?.stop();
  await work?.remove();
});

async function send(request: FuzzRequest): Promise<number> {
  const res = await fetch(`${c.running.url}${request.path}`, {
    method: request.method,
    headers: request.headers,
    ...(request.body ? { body: request.body } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('HTTP fuzzing', () => {
  it('answers every request without a 5xx', async () => {
    const routes = c.running.coordinator.routes;
    await fc.assert(
      fc.asyncProperty(fuzzRequest(routes, c.running.rootToken), async (request) => {
        const status = await send(request);
        if (status >= 500) throw new Error(`${request.method} ${request.path} answered ${status}`);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect((await fetch(`${c.running.url}/-/ready`)).status).toBe(200);
    // The admin token still works: no request revoked it halfway through the run.
    const user = await fetch(`${c.running.url}/api/v4/user`, {
      headers: { 'private-token': c.running.rootToken },
    });
    expect(user.status).toBe(200);
  }, 300_000);
});
