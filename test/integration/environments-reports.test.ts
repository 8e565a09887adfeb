/**
 * Environments, deployments and test reports over real HTTP against an in-process coordinator,
 * driving jobs through the Runner API as a runner does: environment variables in the payload,
 * environment-scoped project variables, deployment statuses that follow failed and canceled jobs,
 * non-deployment actions, REST filter errors, and a gzip junit upload as gitlab-runner sends it.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { tempDir } from '../../harness/temp-dir.js';

const PIPELINE = `
first:
  script: [exit 1]
  environment:
    name: production
    url: https://prod.example.test/$CI_JOB_NAME
second:
  script: [sleep 1]
  environment: production
prepare:
  script: [echo prep]
  environment:
    name: production
    action: prepare
tests:
  script: [echo tests]
  artifacts:
    reports:
      junit: report.xml
`;

let c: TestCoordinator;
let work: { dir: string; remove: () => Promise<void> };
let projectId = 0;
let runnerToken = '';
const claimed = new Map<string, { id: number; token: string; variables: Record<string, string> }>();

beforeAll(async () => {
  c = await startTestCoordinator({ longPollSeconds: 1 });
  work = await tempDir();
  runnerToken = (await c.api.createRunner({ description: 'env' })).token;
  const project = await c.api.createProject('environments');
  projectId = project.id;
  for (const [key, value, environment_scope] of [
    ['DB_URL', 'default-db', '*'],
    ['DB_URL', 'prod-db', 'production'],
    ['DB_URL', 'pattern-db', 'prod*'],
    ['REVIEW_ONLY', 'x', 'review/*'],
  ]) {
    const res = await c.api.post(`/projects/${projectId}/variables`, { key, value, environment_scope });
    expect(res.status).toBe(201);
  }
  await createWorkRepo(work.dir, { '.gitlab-ci.yml': PIPELINE });
  await pushTo(work.dir, c.running.url, project.path_with_namespace, c.running.rootToken);
  const pipeline = await c.api.waitForPipeline(projectId);
  await c.api.until(async () => {
    const jobs = await c.api.jobs(projectId, pipeline.id);
    return jobs.length === 4 && jobs.every((j) => j.status === 'pending');
  }, 'the jobs to be pending');
  for (let i = 0; i < 4; i++) {
    const res = await c.api.post('/jobs/request', { token: runnerToken, info: { name: 'it' } });
    expect(res.status, `request ${i}: ${res.text}`).toBe(201);
    const variables = Object.fromEntries(res.body.variables.map((v: any) => [v.key, v.value]));
    claimed.set(res.body.job_info.name, { id: res.body.id, token: res.body.token, variables });
  }
});

afterAll(async () => {
  await c?.stop();
  await work?.remove();
});

function job(name: string) {
  const found = claimed.get(name);
  if (!found) throw new Error(`job ${name} was not handed out`);
  return found;
}

async function finish(name: string, state: 'success' | 'failed') {
  const { id, token } = job(name);
  const body =
    state === 'failed' ? { token, state, failure_reason: 'script_failure', exit_code: 1 } : { token, state };
  expect((await c.api.call('PUT', `/jobs/${id}`, body)).status).toBe(200);
}

async function deploymentOf(jobId: number): Promise<any> {
  const all = (await c.api.get(`/projects/${projectId}/deployments`)).body as any[];
  return all.find((d) => d.deployable?.id === jobId);
}

describe('environments over the Runner and REST APIs', () => {
  it('hands CI_ENVIRONMENT_* to the runner, only for environment jobs', () => {
    expect(job('first').variables).toMatchObject({
      CI_ENVIRONMENT_NAME: 'production',
      CI_ENVIRONMENT_SLUG: 'production',
      CI_ENVIRONMENT_URL: 'https://prod.example.test/first',
      CI_ENVIRONMENT_ACTION: 'start',
      CI_ENVIRONMENT_TIER: 'production',
    });
    expect(job('prepare').variables).toMatchObject({ CI_ENVIRONMENT_ACTION: 'prepare' });
    expect(job('second').variables).not.toHaveProperty('CI_ENVIRONMENT_URL');
    expect(job('tests').variables).not.toHaveProperty('CI_ENVIRONMENT_NAME');
  });

  it('gives environment jobs the project variables scoped to their environment, most specific first', () => {
    expect(job('first').variables).toMatchObject({ DB_URL: 'prod-db' });
    expect(job('prepare').variables).toMatchObject({ DB_URL: 'prod-db' });
    expect(job('first').variables).not.toHaveProperty('REVIEW_ONLY');
    expect(job('tests').variables).toMatchObject({ DB_URL: 'default-db' });
  });

  it('numbers deployments, follows failed and canceled jobs, and skips non-deployment actions', async () => {
    const running = (await c.api.get(`/projects/${projectId}/deployments?status=running`)).body;
    expect(running.map((d: any) => d.deployable.name).sort()).toEqual(['first', 'second']);
    await finish('first', 'failed');
    await finish('prepare', 'success');
    const cancel = await c.api.post(`/projects/${projectId}/jobs/${job('second').id}/cancel`);
    expect(cancel.status).toBe(201);
    expect(cancel.body.status).toBe('canceling');
    expect((await deploymentOf(job('second').id)).status).toBe('running');
    await finish('second', 'failed'); // the runner's answer to Job-Status: canceling
    const first = await c.api.until(async () => {
      const d = await deploymentOf(job('first').id);
      return d?.status === 'failed' ? d : undefined;
    }, 'the first deployment to fail');
    expect(first.finished_at).not.toBeNull();
    const second = await c.api.until(async () => {
      const d = await deploymentOf(job('second').id);
      return d?.status === 'canceled' ? d : undefined;
    }, 'the second deployment to be canceled');
    expect([first.iid, second.iid].sort()).toEqual([1, 2]);
    expect(await deploymentOf(job('prepare').id)).toBeUndefined();
    const desc = (await c.api.get(`/projects/${projectId}/deployments?order_by=iid&sort=desc`)).body;
    expect(desc.map((d: any) => d.iid)).toEqual([2, 1]);
  });

  it('keeps one environment, without a last successful deployment', async () => {
    const list = (await c.api.get(`/projects/${projectId}/environments`)).body;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      name: 'production',
      slug: 'production',
      tier: 'production',
      state: 'available',
      external_url: 'https://prod.example.test/first',
    });
    const one = await c.api.get(`/projects/${projectId}/environments/${list[0].id}`);
    expect(one.body.last_deployment).toBeNull();
    expect((await c.api.get(`/projects/${projectId}/environments?search=PROD`)).body).toHaveLength(1);
    expect((await c.api.get(`/projects/${projectId}/environments/999999`)).status).toBe(404);
  });

  it.each([
    ['/environments?search=pr', /search must be at least 3 characters/],
    ['/environments?name=a&search=abc', /name, search are mutually exclusive/],
    [
      '/environments?states=gone',
      /states does not have a valid value: use one of available, stopping, stopped/,
    ],
    ['/deployments?order_by=finished', /order_by does not have a valid value: use one of id, iid/],
    ['/deployments?status=done', /status does not have a valid value: use one of created, running/],
  ])('refuses %s with 400 naming the field and the valid values', async (path, message) => {
    const res = await c.api.get(`/projects/${projectId}${path}`);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(message);
  });
});

describe('test reports from a gzip junit upload', () => {
  it('parses each gzip member as one JUnit file, as gitlab-runner uploads them', async () => {
    const { id, token } = job('tests');
    const a = '<testsuite><testcase classname="a" name="one" time="1"/></testsuite>';
    const b =
      '<testsuites><testsuite><testcase name="two"><error message="boom"/></testcase></testsuite></testsuites>';
    const form = new FormData();
    form.append('file', new Blob([Buffer.concat([gzipSync(a), gzipSync(b)])]), 'junit.xml.gz');
    const url = `${c.running.url}/api/v4/jobs/${id}/artifacts?artifact_type=junit&artifact_format=gzip`;
    const res = await fetch(url, { method: 'POST', headers: { 'JOB-TOKEN': token }, body: form });
    expect(res.status).toBe(201);
    await finish('tests', 'success');
    const pipelineId = (await c.api.get(`/projects/${projectId}/pipelines`)).body[0].id;
    const report = (await c.api.get(`/projects/${projectId}/pipelines/${pipelineId}/test_report`)).body;
    expect(report).toMatchObject({ total_count: 2, success_count: 1, error_count: 1, total_time: 1 });
    expect(report.test_suites).toHaveLength(1);
    expect(report.test_suites[0].name).toBe('tests');
    expect(report.test_suites[0].test_cases.map((t: any) => [t.name, t.status, t.system_output])).toEqual([
      ['one', 'success', null],
      ['two', 'error', 'boom'],
    ]);
    const summary = (await c.api.get(`/projects/${projectId}/pipelines/${pipelineId}/test_report_summary`))
      .body;
    expect(summary.test_suites).toEqual([
      expect.objectContaining({ name: 'tests', build_ids: [id], total_count: 2, suite_error: null }),
    ]);
    const missing = await c.api.get(`/projects/${projectId}/pipelines/999999/test_report`);
    expect(missing.status).toBe(404);
  });
});
