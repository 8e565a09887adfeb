/**
 * A coordinator restart loses nothing it acknowledged: pipelines, job states, log bytes, runner and
 * job tokens survive, and the runner carries on where it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { tempDir } from '../../harness/temp-dir.js';

let dataDir: { dir: string; remove: () => Promise<void> };
let work: { dir: string; remove: () => Promise<void> };
let c: TestCoordinator | undefined;

beforeAll(async () => {
  dataDir = await tempDir('flotilla-restart-');
  work = await tempDir();
});

afterAll(async () => {
  await c?.stop();
  await dataDir.remove();
  await work.remove();
});

describe('coordinator restart', () => {
  it('keeps pipelines, running jobs, trace bytes and tokens', async () => {
    c = await startTestCoordinator({ longPollSeconds: 1 }, dataDir.dir);
    const project = await c.api.createProject('restart');
    const runner = await c.api.createRunner({ description: 'r' });
    await createWorkRepo(work.dir, {
      '.gitlab-ci.yml': 'a:\n  script: [echo a]\nb:\n  stage: test\n  script: [echo b]\n',
    });
    await pushTo(work.dir, c.running.url, project.path_with_namespace, c.running.rootToken);
    const claimed = await c.api.until(async () => {
      const res = await c!.api.call('POST', '/jobs/request', { token: runner.token });
      return res.status === 201 ? res.body : undefined;
    }, 'a job');
    const patch = await c.api.call('PATCH', `/jobs/${claimed.id}/trace`, 'before restart\n', {
      'JOB-TOKEN': claimed.token,
      'content-type': 'text/plain',
      'content-range': '0-14',
    });
    expect(patch.status).toBe(202);
    await c.running.close();

    c = await startTestCoordinator({ longPollSeconds: 1 }, dataDir.dir);
    const job = (await c.api.get(`/projects/${project.id}/jobs/${claimed.id}`)).body;
    expect(job.status).toBe('running');
    expect((await c.api.get(`/projects/${project.id}/jobs/${claimed.id}/trace`)).text).toBe(
      'before restart\n',
    );
    const resumed = await c.api.call('PATCH', `/jobs/${claimed.id}/trace`, 'after\n', {
      'JOB-TOKEN': claimed.token,
      'content-type': 'text/plain',
      'content-range': '15-20',
    });
    expect(resumed.status).toBe(202);
    const done = await c.api.call('PUT', `/jobs/${claimed.id}`, {
      token: claimed.token,
      state: 'success',
      output: { bytesize: 21 },
    });
    expect(done.status).toBe(200);
    const next = await c.api.until(async () => {
      const res = await c!.api.call('POST', '/jobs/request', { token: runner.token });
      return res.status === 201 ? res.body : undefined;
    }, 'the second stage job');
    expect(next.job_info.name).toBe('b');
  });
});
