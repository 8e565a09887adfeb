/**
 * The REST API v4 over real HTTP: pipelines created through the API with variables, filters,
 * cancel and retry of pipelines, project variables (masked validation, protected scoping), runner
 * management, and the CI lint API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { commitFiles, createWorkRepo, git, pushTo } from '../../harness/git-repo.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { tempDir } from '../../harness/temp-dir.js';

let c: TestCoordinator;
let work: { dir: string; remove: () => Promise<void> };
let projectId = 0;
let runnerToken = '';

const CI = `
variables:
  FROM_YAML: yaml
build:
  stage: build
  script: [echo build]
test:
  stage: test
  script: [echo test]
`;

async function claim(): Promise<any> {
  const res = await c.api.call('POST', '/jobs/request', { token: runnerToken });
  return res.status === 201 ? res.body : null;
}

function vars(payload: any): Record<string, string> {
  return Object.fromEntries(payload.variables.map((v: any) => [v.key, v.value]));
}

beforeAll(async () => {
  c = await startTestCoordinator({ longPollSeconds: 1 });
  work = await tempDir();
  const project = await c.api.createProject('rest');
  projectId = project.id;
  runnerToken = (await c.api.createRunner({ description: 'rest' })).token;
  await createWorkRepo(work.dir, { '.gitlab-ci.yml': CI });
  await git(work.dir, 'checkout', '-q', '-b', 'feature');
  await commitFiles(work.dir, { 'f.txt': 'f' }, 'feature');
  await git(work.dir, 'checkout', '-q', 'main');
  const res = await c.api.post(`/projects/${projectId}/variables`, {
    key: 'PROTECTED_ONLY',
    value: 'secret-on-main',
    protected: true,
  });
  expect(res.status).toBe(201);
});

afterAll(async () => {
  await c.stop();
  await work.remove();
});

describe('pipelines through the API', () => {
  it('creates a pipeline for a ref with variables, with GitLab precedence', async () => {
    await pushTo(work.dir, c.running.url, 'root/rest', c.running.rootToken, 'main');
    await pushTo(work.dir, c.running.url, 'root/rest', c.running.rootToken, 'feature');
    const pushed = await c.api.waitForPipeline(projectId, (p) => p.ref === 'feature');
    await c.api.post(`/projects/${projectId}/pipelines/${pushed.id}/cancel`);
    const mainPushed = await c.api.waitForPipeline(projectId, (p) => p.ref === 'main');
    await c.api.post(`/projects/${projectId}/pipelines/${mainPushed.id}/cancel`);
    const res = await c.api.post(`/projects/${projectId}/pipeline`, {
      ref: 'main',
      variables: [
        { key: 'FROM_YAML', value: 'api' },
        { key: 'EXTRA', value: '1' },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ref: 'main', source: 'api', status: 'pending' });
    const payload = await claim();
    expect(payload.job_info.pipeline_id).toBe(res.body.id);
    const v = vars(payload);
    expect(v['FROM_YAML']).toBe('api');
    expect(v['EXTRA']).toBe('1');
    expect(v['PROTECTED_ONLY']).toBe('secret-on-main');
    expect(v['CI_PIPELINE_SOURCE']).toBe('api');
    expect(v['CI_COMMIT_BRANCH']).toBe('main');
    expect(v['CI_COMMIT_REF_PROTECTED']).toBe('true');
    await c.api.call('PUT', `/jobs/${payload.id}`, { token: payload.token, state: 'success' });
  });

  it('keeps protected variables away from unprotected branches', async () => {
    const res = await c.api.post(`/projects/${projectId}/pipeline`, { ref: 'feature' });
    expect(res.status).toBe(201);
    let payload = await claim();
    while (payload && payload.git_info.ref !== 'feature') {
      await c.api.call('PUT', `/jobs/${payload.id}`, { token: payload.token, state: 'success' });
      payload = await claim();
    }
    expect(payload).not.toBeNull();
    expect(vars(payload)['PROTECTED_ONLY']).toBeUndefined();
    expect(vars(payload)['CI_COMMIT_REF_PROTECTED']).toBe('false');
    await c.api.call('PUT', `/jobs/${payload.id}`, {
      token: payload.token,
      state: 'failed',
      failure_reason: 'script_failure',
      exit_code: 2,
    });
  });

  it('filters pipelines by ref and status', async () => {
    const byRef = (await c.api.get(`/projects/${projectId}/pipelines?ref=feature`)).body;
    expect(byRef.length).toBeGreaterThan(0);
    expect(byRef.every((p: any) => p.ref === 'feature')).toBe(true);
    const canceled = (await c.api.get(`/projects/${projectId}/pipelines?status=canceled`)).body;
    expect(canceled.every((p: any) => p.status === 'canceled')).toBe(true);
    expect((await c.api.get(`/projects/${projectId}/pipelines?status=bogus`)).status).toBe(400);
  });

  it('retries a failed pipeline: the failed job gets a new job, later stages run again', async () => {
    const failed = await c.api.waitForPipeline(
      projectId,
      (p) => p.ref === 'feature' && p.status === 'failed',
    );
    const retry = await c.api.post(`/projects/${projectId}/pipelines/${failed.id}/retry`);
    expect(retry.status).toBe(201);
    const jobs = await c.api.jobs(projectId, failed.id);
    expect(jobs.map((j: any) => `${j.name}:${j.status}`).sort()).toEqual(['build:pending', 'test:created']);
    const all = (await c.api.get(`/projects/${projectId}/pipelines/${failed.id}/jobs?include_retried=true`))
      .body;
    expect(all).toHaveLength(3);
  });

  it('answers 400 for an unknown ref', async () => {
    const res = await c.api.post(`/projects/${projectId}/pipeline`, { ref: 'nope' });
    expect(res.status).toBe(400);
  });
});

describe('project variables', () => {
  it('validates masked values as GitLab does', async () => {
    const bad = await c.api.post(`/projects/${projectId}/variables`, {
      key: 'SHORT',
      value: 'abc',
      masked: true,
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.message)).toContain('value');
    const badKey = await c.api.post(`/projects/${projectId}/variables`, { key: 'bad-key', value: 'x' });
    expect(badKey.status).toBe(400);
    const dup = await c.api.post(`/projects/${projectId}/variables`, { key: 'PROTECTED_ONLY', value: 'x' });
    expect(dup.status).toBe(400);
  });

  it('updates and deletes a variable', async () => {
    expect((await c.api.post(`/projects/${projectId}/variables`, { key: 'TMP', value: 'one' })).status).toBe(
      201,
    );
    const updated = await c.api.call('PUT', `/projects/${projectId}/variables/TMP`, { value: 'two' });
    expect(updated.body.value).toBe('two');
    expect((await c.api.call('DELETE', `/projects/${projectId}/variables/TMP`)).status).toBe(204);
    expect((await c.api.get(`/projects/${projectId}/variables/TMP`)).status).toBe(404);
  });
});

describe('runners', () => {
  it('lists, shows, pauses and deletes runners', async () => {
    const created = await c.api.createRunner({ description: 'to-pause', tag_list: ['a', 'b'] });
    const all = (await c.api.get('/runners/all')).body;
    expect(all.some((r: any) => r.id === created.id)).toBe(true);
    const shown = (await c.api.get(`/runners/${created.id}`)).body;
    expect(shown).toMatchObject({
      id: created.id,
      tag_list: ['a', 'b'],
      paused: false,
      runner_type: 'instance_type',
    });
    const paused = await c.api.call('PUT', `/runners/${created.id}`, { paused: true });
    expect(paused.body.paused).toBe(true);
    expect((await c.api.call('DELETE', `/runners/${created.id}`)).status).toBe(204);
    expect((await c.api.call('POST', '/runners/verify', { token: created.token })).status).toBe(403);
  });
});

describe('CI lint API', () => {
  it('lints content with positioned errors and the project file at a ref', async () => {
    const bad = await c.api.post(`/projects/${projectId}/ci/lint`, {
      content: 'job:\n  script: [x]\n  when: sometimes\n',
    });
    expect(bad.body.valid).toBe(false);
    expect(bad.body.errors[0]).toContain('jobs:job:when config should be one of');
    const good = await c.api.post(`/projects/${projectId}/ci/lint`, { ref: 'main', include_jobs: true });
    expect(good.body.valid).toBe(true);
    expect(good.body.jobs.map((j: any) => j.name)).toEqual(['build', 'test']);
    expect(good.body.merged_yaml).toContain('FROM_YAML');
  });
});
