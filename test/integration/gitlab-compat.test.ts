/**
 * The defects found when real GitLab clients were pointed at the coordinator (issue 11), each
 * checked over real HTTP: exact `Content-Type: application/json`, JSON requests with an empty
 * body, the user/version/metadata/users endpoints, project edit and delete, pipeline variables and
 * delete, project runners, runner jobs, job erase, retry while jobs are canceling, and the Runner
 * API image/services shapes. The test acts as the runner through the Runner API.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { gitlabImage, gitlabService } from '../kits/api/gitlab-images.js';

const exec = promisify(execFile);
let c: TestCoordinator;
let seq = 0;

beforeAll(async () => {
  c = await startTestCoordinator({ longPollSeconds: 1 });
});

afterAll(async () => {
  await c.stop();
});

interface Scenario {
  projectId: number;
  pipelineId: number;
  runner: { id: number; token: string };
  tag: string;
}

/** A project whose push pipeline has `jobs` (YAML, each tagged for this scenario's own runner). */
async function scenario(jobs: (tag: string) => string): Promise<Scenario> {
  const tag = `s${(seq += 1)}`;
  const project = await c.api.createProject(`compat-${tag}`);
  const runner = await c.api.createRunner({ description: tag, tag_list: tag, run_untagged: false });
  const commit = await c.api.post(`/projects/${project.id}/repository/files/.gitlab-ci.yml`, {
    branch: 'main',
    content: jobs(tag),
    commit_message: 'ci',
  });
  expect(commit.status, commit.text).toBe(201);
  const pipeline = await c.api.waitForPipeline(project.id);
  return { projectId: project.id, pipelineId: pipeline.id, runner, tag };
}

async function claim(s: Scenario): Promise<any> {
  const res = await c.api.call('POST', '/jobs/request', { token: s.runner.token });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function finish(job: { id: number; token: string }, state: 'success' | 'failed', log = 'log\n') {
  const trace = await c.api.call('PATCH', `/jobs/${job.id}/trace`, log, {
    'JOB-TOKEN': job.token,
    'content-type': 'text/plain',
    'content-range': `0-${log.length - 1}`,
  });
  expect(trace.status).toBe(202);
  const res = await c.api.call('PUT', `/jobs/${job.id}`, {
    token: job.token,
    state,
    ...(state === 'failed' ? { failure_reason: 'script_failure' } : {}),
  });
  expect(res.status).toBe(200);
}

async function raw(method: string, urlPath: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${c.running.url}/api/v4${urlPath}`, {
    method,
    ...init,
    headers: { 'PRIVATE-TOKEN': c.running.rootToken, ...(init.headers as Record<string, string>) },
  });
}

describe('HTTP details clients depend on', () => {
  it('answers JSON with exactly Content-Type: application/json (python-gitlab needs it)', async () => {
    for (const res of [
      await raw('GET', '/projects'),
      await raw('POST', '/projects', {
        body: JSON.stringify({ name: 'ctype' }),
        headers: { 'content-type': 'application/json' },
      }),
      await raw('GET', '/projects/999999'),
    ]) {
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(typeof (await res.json())).toBe('object');
    }
    const trace = await raw('GET', '/projects/1/jobs/999999/trace');
    expect(trace.headers.get('content-type')).toBe('application/json');
  });

  it('accepts Content-Type: application/json with an empty body on DELETE and POST', async () => {
    const project = await c.api.createProject('empty-json');
    await c.api.post(`/projects/${project.id}/variables`, { key: 'GONE', value: 'x' });
    const del = await raw('DELETE', `/projects/${project.id}/variables/GONE`, {
      headers: { 'content-type': 'application/json' },
    });
    expect(del.status).toBe(204);
    const runners = await raw('GET', '/runners', { headers: { 'content-type': 'application/json' } });
    expect(runners.status).toBe(200);
    const bad = await raw('POST', '/projects', {
      body: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'FLO_ERR_BAD_REQUEST' });
  });
});

describe('users, version and metadata', () => {
  it('GET /user is the token owner, with the private fields', async () => {
    const res = await c.api.get('/user');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: 1,
      username: 'root',
      name: 'Administrator',
      state: 'active',
      is_admin: true,
      web_url: `${c.running.url}/root`,
    });
    expect(res.body.email).toMatch(/^1-root@users\.noreply\./);
    expect(new Date(res.body.created_at).getTime()).not.toBeNaN();
    expect((await c.api.call('GET', '/user', undefined, { 'PRIVATE-TOKEN': 'glpat-wrong' })).status).toBe(
      401,
    );
  });

  it('GET /version and /metadata report the GitLab API level and our revision', async () => {
    for (const p of ['/version', '/metadata']) {
      const res = await c.api.get(p);
      expect(res.status).toBe(200);
      expect(res.body.version).toMatch(/^\d+\.\d+\.\d+-flotilla$/);
      expect(res.body.revision).toMatch(/^flotilla-/);
      expect(res.body.kas).toEqual({
        enabled: false,
        externalUrl: null,
        externalK8sProxyUrl: null,
        version: null,
      });
      expect(res.body.enterprise).toBe(false);
    }
  });

  it('lists and shows users with filters, 404 for an unknown one', async () => {
    const list = await c.api.get('/users?username=root');
    expect(list.status).toBe(200);
    expect(list.headers.get('x-total')).toBe('1');
    expect(list.body[0]).toMatchObject({ id: 1, username: 'root', state: 'active', locked: false });
    expect((await c.api.get('/users?search=admini')).body.map((u: any) => u.id)).toEqual([1]);
    expect((await c.api.get('/users?username=nobody')).body).toEqual([]);
    expect((await c.api.get('/users/1')).body).toMatchObject({ id: 1, username: 'root', bot: false });
    const missing = await c.api.get('/users/4242');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('404 User Not Found');
  });
});

describe('projects', () => {
  it('edits a project and validates the fields', async () => {
    const project = await c.api.createProject('editable');
    const res = await c.api.call('PUT', `/projects/${project.id}`, {
      description: 'now described',
      ci_config_path: 'ci/main.yml',
      visibility: 'internal',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: project.id,
      description: 'now described',
      ci_config_path: 'ci/main.yml',
      visibility: 'internal',
    });
    expect((await c.api.get(`/projects/${project.id}`)).body.ci_config_path).toBe('ci/main.yml');
    const bad = await c.api.call('PUT', `/projects/${project.id}`, { visibility: 'secret' });
    expect(bad.status).toBe(400);
    expect(bad.body.message.visibility[0]).toContain('private, internal, public');
  });

  it('deletes a project: 202, its repository and its artifact files are gone', async () => {
    const s = await scenario((tag) => `build:\n  tags: [${tag}]\n  script: [echo hi]\n`);
    const job = await claim(s);
    await uploadArtifact(job);
    await finish(job, 'success');
    const dirs = await readdir(path.join(c.dataDir, 'artifacts'));
    expect(dirs).toContain(String(job.id));
    const res = await c.api.call('DELETE', `/projects/${s.projectId}`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ message: '202 Accepted' });
    expect((await c.api.get(`/projects/${s.projectId}`)).status).toBe(404);
    expect((await c.api.get(`/projects/${s.projectId}/pipelines/${s.pipelineId}`)).status).toBe(404);
    expect(await readdir(path.join(c.dataDir, 'artifacts'))).not.toContain(String(job.id));
    const url = new URL(`${c.running.url}/root/compat-${s.tag}.git`);
    url.username = 'root';
    url.password = c.running.rootToken;
    await expect(
      exec('git', ['ls-remote', url.toString()], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }),
    ).rejects.toThrow();
    expect((await c.api.call('DELETE', `/projects/${s.projectId}`)).status).toBe(404);
  });
});

async function uploadArtifact(job: { id: number; token: string }): Promise<void> {
  const form = new FormData();
  form.append('file', new Blob([Buffer.from('PK\x05\x06' + '\0'.repeat(18), 'binary')]), 'artifacts.zip');
  const res = await fetch(
    `${c.running.url}/api/v4/jobs/${job.id}/artifacts?artifact_format=zip&artifact_type=archive`,
    {
      method: 'POST',
      headers: { 'JOB-TOKEN': job.token },
      body: form,
    },
  );
  expect(res.status, await res.text()).toBe(201);
}

describe('pipelines', () => {
  it('lists the variables a pipeline was created with', async () => {
    const s = await scenario((tag) => `build:\n  tags: [${tag}]\n  script: [echo hi]\n`);
    const created = await c.api.post(`/projects/${s.projectId}/pipeline`, {
      ref: 'main',
      variables: [
        { key: 'DEPLOY', value: 'yes' },
        { key: 'CONF', value: 'a=b', variable_type: 'file' },
      ],
    });
    expect(created.status).toBe(201);
    const res = await c.api.get(`/projects/${s.projectId}/pipelines/${created.body.id}/variables`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { key: 'DEPLOY', variable_type: 'env_var', value: 'yes' },
      { key: 'CONF', variable_type: 'file', value: 'a=b' },
    ]);
    expect((await c.api.get(`/projects/${s.projectId}/pipelines/${s.pipelineId}/variables`)).body).toEqual(
      [],
    );
  });

  it('deletes a pipeline: running jobs are canceled, the pipeline and its jobs are gone', async () => {
    const s = await scenario((tag) => `build:\n  tags: [${tag}]\n  script: [sleep 100]\n`);
    const job = await claim(s);
    const res = await c.api.call('DELETE', `/projects/${s.projectId}/pipelines/${s.pipelineId}`);
    expect(res.status).toBe(204);
    expect((await c.api.get(`/projects/${s.projectId}/pipelines/${s.pipelineId}`)).status).toBe(404);
    expect((await c.api.get(`/projects/${s.projectId}/jobs/${job.id}`)).status).toBe(404);
    const update = await c.api.call('PUT', `/jobs/${job.id}`, { token: job.token, state: 'running' });
    expect([403, 404]).toContain(update.status);
    expect((await c.api.get(`/projects/${s.projectId}`)).status).toBe(200);
    expect((await c.api.call('DELETE', `/projects/${s.projectId}/pipelines/${s.pipelineId}`)).status).toBe(
      404,
    );
  });

  it('refuses to retry while jobs are canceling, and retries once they are canceled', async () => {
    const s = await scenario((tag) => `build:\n  tags: [${tag}]\n  script: [sleep 100]\n`);
    const job = await claim(s);
    const cancel = await c.api.post(`/projects/${s.projectId}/pipelines/${s.pipelineId}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('canceling');
    const refused = await c.api.post(`/projects/${s.projectId}/pipelines/${s.pipelineId}/retry`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'FLO_ERR_CONFLICT' });
    expect(refused.body.message).toContain(`build (#${job.id})`);
    expect(refused.body.message).toContain('retry once they are canceled');
    await finish(job, 'failed');
    await c.api.waitForPipelineStatus(s.projectId, s.pipelineId, ['canceled']);
    const retried = await c.api.post(`/projects/${s.projectId}/pipelines/${s.pipelineId}/retry`);
    expect(retried.status).toBe(201);
    expect(retried.body.status).toBe('pending');
    const jobs = await c.api.jobs(s.projectId, s.pipelineId);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ name: 'build', status: 'pending' });
    expect(jobs[0].id).not.toBe(job.id);
    await finish(await claim(s), 'success');
  });
});

describe('runners', () => {
  it('lists the runners a project can use, and the jobs a runner took, newest first', async () => {
    const s = await scenario(
      (tag) => `a:\n  tags: [${tag}]\n  script: [echo a]\nb:\n  tags: [${tag}]\n  script: [echo b]\n`,
    );
    const runners = await c.api.get(`/projects/${s.projectId}/runners?tag_list=${s.tag}`);
    expect(runners.status).toBe(200);
    expect(runners.body).toEqual([
      expect.objectContaining({ id: s.runner.id, description: s.tag, is_shared: true }),
    ]);
    expect((await c.api.get('/projects/999999/runners')).status).toBe(404);
    const first = await claim(s);
    await finish(first, 'success');
    const second = await claim(s);
    const res = await c.api.get(`/runners/${s.runner.id}/jobs`);
    expect(res.status).toBe(200);
    expect(res.body.map((j: any) => j.id)).toEqual([second.id, first.id]);
    expect(res.body[0]).toMatchObject({
      status: 'running',
      project: { id: s.projectId, path_with_namespace: `root/compat-${s.tag}` },
      pipeline: { id: s.pipelineId },
    });
    const done = await c.api.get(`/runners/${s.runner.id}/jobs?status=success&sort=asc`);
    expect(done.body.map((j: any) => j.id)).toEqual([first.id]);
    expect((await c.api.get(`/runners/${s.runner.id}/jobs?status=bogus`)).status).toBe(400);
    expect((await c.api.get('/runners/999999/jobs')).status).toBe(404);
    await finish(second, 'success');
  });
});

describe('jobs', () => {
  it('erases a finished job: its log and artifacts go, erased_at is set; play takes an empty JSON body', async () => {
    const s = await scenario(
      (tag) =>
        `build:\n  tags: [${tag}]\n  script: [echo secret]\ndeploy:\n  tags: [${tag}]\n  when: manual\n  script: [echo d]\n`,
    );
    const job = await claim(s);
    const running = await c.api.post(`/projects/${s.projectId}/jobs/${job.id}/erase`);
    expect(running.status).toBe(403);
    expect(running.body.message).toContain('not erasable: it is running');
    await uploadArtifact(job);
    await finish(job, 'success', 'secret output\n');
    const erased = await c.api.post(`/projects/${s.projectId}/jobs/${job.id}/erase`);
    expect(erased.status).toBe(201);
    expect(erased.body).toMatchObject({ id: job.id, status: 'success', artifacts: [] });
    expect(new Date(erased.body.erased_at).getTime()).not.toBeNaN();
    expect((await c.api.get(`/projects/${s.projectId}/jobs/${job.id}/trace`)).text).toBe('');
    expect((await c.api.get(`/projects/${s.projectId}/jobs/${job.id}/artifacts`)).status).toBe(404);
    const again = await c.api.post(`/projects/${s.projectId}/jobs/${job.id}/erase`);
    expect(again.status).toBe(403);
    const deploy = (await c.api.jobs(s.projectId, s.pipelineId)).find((j) => j.name === 'deploy');
    const play = await raw('POST', `/projects/${s.projectId}/jobs/${deploy.id}/play`, {
      headers: { 'content-type': 'application/json' },
    });
    expect(play.status).toBe(200);
    expect(await play.json()).toMatchObject({ id: deploy.id, status: 'pending' });
    await finish(await claim(s), 'success');
  });
});

describe('Runner API payloads', () => {
  it("sends image and services in GitLab's full shapes (null and empty fields included)", async () => {
    const s = await scenario(
      (tag) =>
        `build:\n  tags: [${tag}]\n  image: alpine:3\n  services:\n    - postgres:16\n    - name: redis:7\n      alias: cache\n  script: [echo hi]\n`,
    );
    const payload = await claim(s);
    expect(payload.image).toStrictEqual(gitlabImage('alpine:3'));
    expect(payload.services).toStrictEqual([
      gitlabService('postgres:16'),
      gitlabService('redis:7', { alias: 'cache' }),
    ]);
    expect(payload.hooks).toEqual([]);
    expect(payload.job_info).toMatchObject({ project_id: s.projectId, user_id: 1 });
    await finish(payload, 'success');
  });
});
