/**
 * Stopping an environment over REST, as GitLab does: the deployment's `on_stop` job is played and
 * the environment is `stopping` until that job finishes (failure gives it back as `available`,
 * success makes it `stopped`); `force=true` or no stop job stops it at once. Jobs are driven
 * through the Runner API against an in-process coordinator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { commitFiles, createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { tempDir } from '../../harness/temp-dir.js';

const PIPELINE = `
deploy:
  script: [echo deploy]
  environment:
    name: review
    on_stop: stop_review
stop_review:
  script: [echo stop]
  when: manual
  environment:
    name: review
    action: stop
plain:
  script: [echo plain]
  environment: scratch
`;

let c: TestCoordinator;
let work: { dir: string; remove: () => Promise<void> };
let projectId = 0;
let projectPath = '';
let runnerToken = '';

beforeAll(async () => {
  c = await startTestCoordinator({ longPollSeconds: 1 });
  work = await tempDir();
  runnerToken = (await c.api.createRunner({ description: 'env-stop' })).token;
  const project = await c.api.createProject('environment-stop');
  projectId = project.id;
  projectPath = project.path_with_namespace;
  await createWorkRepo(work.dir, { '.gitlab-ci.yml': PIPELINE });
  await pushTo(work.dir, c.running.url, projectPath, c.running.rootToken);
});

afterAll(async () => {
  await c?.stop();
  await work?.remove();
});

/** Takes one job from the queue and finishes it with `state`; returns its name. */
async function runNext(state: 'success' | 'failed'): Promise<string> {
  const res = await c.api.until(async () => {
    const r = await c.api.post('/jobs/request', { token: runnerToken, info: { name: 'it' } });
    return r.status === 201 ? r : undefined;
  }, 'a job to be handed out');
  const { id, token } = res.body;
  const body =
    state === 'failed' ? { token, state, failure_reason: 'script_failure', exit_code: 1 } : { token, state };
  expect((await c.api.call('PUT', `/jobs/${id}`, body)).status).toBe(200);
  return res.body.job_info.name;
}

async function environment(name: string): Promise<any> {
  return c.api.until(async () => {
    const all = (await c.api.get(`/projects/${projectId}/environments?name=${name}`)).body as any[];
    return all[0];
  }, `environment ${name}`);
}

async function stateBecomes(name: string, state: string): Promise<any> {
  return c.api.until(async () => {
    const env = await environment(name);
    return env.state === state ? env : undefined;
  }, `environment ${name} to be ${state}`);
}

describe('POST /projects/:id/environments/:environment_id/stop', () => {
  it('plays the on_stop job; a failed stop job gives the environment back, a forced stop does not wait', async () => {
    expect([await runNext('success'), await runNext('success')].sort()).toEqual(['deploy', 'plain']);
    const review = await stateBecomes('review', 'available');
    const stop = await c.api.post(`/projects/${projectId}/environments/${review.id}/stop`);
    expect(stop.status, stop.text).toBe(201);
    expect(stop.body).toMatchObject({ id: review.id, name: 'review', state: 'stopping' });
    expect(await runNext('failed')).toBe('stop_review');
    await stateBecomes('review', 'available');
    const forced = await c.api.post(`/projects/${projectId}/environments/${review.id}/stop?force=true`);
    expect(forced.body.state).toBe('stopped');
  });

  it('stops an environment without a stop job at once, and a successful stop job stops its environment', async () => {
    const scratch = await environment('scratch');
    const res = await c.api.post(`/projects/${projectId}/environments/${scratch.id}/stop`);
    expect(res.body.state).toBe('stopped');

    await commitFiles(work.dir, { 'again.txt': 'x' }, 'second deploy');
    await pushTo(work.dir, c.running.url, projectPath, c.running.rootToken);
    expect([await runNext('success'), await runNext('success')].sort()).toEqual(['deploy', 'plain']);
    const review = await stateBecomes('review', 'available');
    const stop = await c.api.post(`/projects/${projectId}/environments/${review.id}/stop`);
    expect(stop.body.state).toBe('stopping');
    expect(await runNext('success')).toBe('stop_review');
    await stateBecomes('review', 'stopped');
  });

  it('answers 404 for an environment of another project or none', async () => {
    const res = await c.api.post(`/projects/${projectId}/environments/999999/stop`);
    expect(res.status).toBe(404);
  });
});
