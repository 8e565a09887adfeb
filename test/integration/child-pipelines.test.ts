/**
 * Child pipelines over real HTTP with a real coordinator, driven through the Runner API: a runner
 * never receives a bridge; the variables a child job gets follow `inherit:variables` and
 * `trigger:forward`; a manual bridge creates its child when played; retrying the failed job of a
 * `strategy: depend` child puts the bridge and the parent back to running, then to success.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { tempDir } from '../../harness/temp-dir.js';

let c: TestCoordinator;
let runnerToken = '';
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  c = await startTestCoordinator({ longPollSeconds: 1 });
  runnerToken = (await c.api.createRunner({ description: 'children' })).token;
});

afterAll(async () => {
  await c.stop();
  for (const cleanup of cleanups) await cleanup();
});

async function claim(): Promise<any> {
  const res = await c.api.call('POST', '/jobs/request', { token: runnerToken });
  return res.status === 201 ? res.body : null;
}

/** The next job a runner gets, waiting while the pipeline is still being processed. */
async function claimNext(): Promise<any> {
  return c.api.until(claim, 'a job for the runner', 100);
}

async function finish(payload: any, state: 'success' | 'failed'): Promise<void> {
  const res = await c.api.call('PUT', `/jobs/${payload.id}`, {
    token: payload.token,
    state,
    ...(state === 'failed' ? { failure_reason: 'script_failure', exit_code: 1 } : {}),
  });
  expect(res.status, res.text).toBe(200);
}

function vars(payload: any): Record<string, string> {
  return Object.fromEntries(payload.variables.map((v: any) => [v.key, v.value]));
}

/** A new project with these files, pushed; returns its id (after its push pipeline, unless filtered out). */
async function project(name: string, files: Record<string, string>, pushPipeline = true): Promise<number> {
  const created = await c.api.createProject(name);
  const work = await tempDir();
  cleanups.push(work.remove);
  await createWorkRepo(work.dir, files);
  await pushTo(work.dir, c.running.url, created.path_with_namespace, c.running.rootToken, 'main');
  if (pushPipeline) await c.api.waitForPipeline(created.id, (p) => p.source === 'push');
  return created.id;
}

async function bridge(projectId: number, pipelineId: number, name: string): Promise<any> {
  const list = (await c.api.get<any[]>(`/projects/${projectId}/pipelines/${pipelineId}/bridges`)).body;
  return list.find((b) => b.name === name);
}

async function status(projectId: number, pipelineId: number): Promise<string> {
  return (await c.api.get(`/projects/${projectId}/pipelines/${pipelineId}`)).body.status;
}

describe('child pipelines through the Runner API', () => {
  it('passes variables as inherit:variables and trigger:forward say; runners only get builds', async () => {
    const projectId = await project(
      'vars',
      {
        '.gitlab-ci.yml': `
workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "api"
variables:
  GLOBAL_VAR: global
all:
  variables:
    JOB_VAR: job-$GLOBAL_VAR
  trigger:
    include: child.yml
    forward:
      pipeline_variables: true
none:
  inherit:
    variables: false
  trigger:
    include: child.yml
`,
        'child.yml': `
show:
  rules:
    - if: $CI_PIPELINE_SOURCE == "parent_pipeline"
  script: [env]
`,
      },
      false,
    );
    const created = await c.api.post(`/projects/${projectId}/pipeline`, {
      ref: 'main',
      variables: [{ key: 'API_VAR', value: 'from-api' }],
    });
    expect(created.status, created.text).toBe(201);
    const parentId = created.body.id;
    const seen: Record<string, Record<string, string>> = {};
    for (let i = 0; i < 2; i++) {
      const payload = await claimNext();
      expect(payload.job_info.name).toBe('show');
      const v = vars(payload);
      const from = (await bridge(projectId, parentId, 'all')).downstream_pipeline.id;
      seen[payload.job_info.pipeline_id === from ? 'all' : 'none'] = v;
      await finish(payload, 'success');
    }
    expect(await claim()).toBeNull();
    expect(seen['all']).toMatchObject({
      GLOBAL_VAR: 'global',
      JOB_VAR: 'job-global',
      API_VAR: 'from-api',
      CI_PIPELINE_SOURCE: 'parent_pipeline',
    });
    expect(seen['none']?.['CI_PIPELINE_SOURCE']).toBe('parent_pipeline');
    expect(seen['none']?.['GLOBAL_VAR']).toBeUndefined();
    expect(seen['none']?.['API_VAR']).toBeUndefined();
    expect(await status(projectId, parentId)).toBe('success');
    const jobs = await c.api.jobs(projectId, parentId);
    expect(jobs).toEqual([]);
    const projectJobs = (await c.api.get<any[]>(`/projects/${projectId}/jobs`)).body;
    expect(projectJobs.map((j) => j.name)).toEqual(['show', 'show']);
  });

  it('a manual bridge creates its child when played', async () => {
    const projectId = await project('manual', {
      '.gitlab-ci.yml': 'deploy:\n  when: manual\n  trigger:\n    include: deploy.yml\n',
      'deploy.yml': 'go:\n  script: [echo go]\n',
    });
    const parent = await c.api.waitForPipeline(projectId, (p) => p.source === 'push');
    // The push answers before its pipeline is processed.
    const manual = await c.api.until(async () => {
      const b = await bridge(projectId, parent.id, 'deploy');
      return b?.status === 'created' ? undefined : b;
    }, 'the bridge to be processed');
    expect(manual).toMatchObject({ status: 'manual', downstream_pipeline: null });
    const played = await c.api.post(`/projects/${projectId}/jobs/${manual.id}/play`);
    expect(played.status, played.text).toBe(200);
    const after = await bridge(projectId, parent.id, 'deploy');
    expect(after.status).toBe('success');
    expect(after.downstream_pipeline).toMatchObject({ source: 'parent_pipeline', status: 'pending' });
    const payload = await claimNext();
    expect(payload.job_info.pipeline_id).toBe(after.downstream_pipeline.id);
    await finish(payload, 'success');
  });

  it('fails a bridge whose child the workflow rules filter out, saying so in its log', async () => {
    const projectId = await project('filtered', {
      '.gitlab-ci.yml': 'child:\n  trigger:\n    include: child.yml\n',
      'child.yml': 'workflow:\n  rules:\n    - when: never\nx:\n  script: [echo]\n',
    });
    const parent = await c.api.waitForPipelineStatus(projectId, (await c.api.waitForPipeline(projectId)).id, [
      'failed',
      'success',
    ]);
    expect(parent.status).toBe('failed');
    const failed = await bridge(projectId, parent.id, 'child');
    expect(failed).toMatchObject({
      status: 'failed',
      failure_reason: 'downstream_pipeline_creation_failed',
      downstream_pipeline: null,
    });
    const log = (await c.api.get(`/projects/${projectId}/jobs/${failed.id}/trace`)).text;
    expect(log).toContain('Downstream pipeline cannot be created');
    expect(log.toLowerCase()).toContain('workflow');
  });

  it('retrying the failed job of a depend child puts the bridge and parent back to running', async () => {
    const projectId = await project('retry', {
      '.gitlab-ci.yml': `
stages: [children, after]
child:
  stage: children
  trigger:
    include: child.yml
    strategy: depend
after:
  stage: after
  script: [echo after]
`,
      'child.yml': 'flaky:\n  script: [echo flaky]\n',
    });
    const parent = await c.api.waitForPipeline(projectId, (p) => p.source === 'push');
    const first = await claimNext();
    expect(first.job_info.name).toBe('flaky');
    expect((await bridge(projectId, parent.id, 'child')).status).toBe('running');
    await finish(first, 'failed');
    expect(await status(projectId, parent.id)).toBe('failed');
    const failed = await bridge(projectId, parent.id, 'child');
    expect(failed.status).toBe('failed');
    expect((await c.api.jobs(projectId, parent.id)).map((j) => j.status)).toEqual(['skipped']);

    const retry = await c.api.post(`/projects/${projectId}/jobs/${first.id}/retry`);
    expect(retry.status, retry.text).toBe(201);
    expect((await bridge(projectId, parent.id, 'child')).status).toBe('running');
    expect(await status(projectId, parent.id)).toBe('running');
    const second = await claimNext();
    expect(second.job_info.name).toBe('flaky');
    await finish(second, 'success');
    expect((await bridge(projectId, parent.id, 'child')).status).toBe('success');
    const after = await claimNext();
    expect(after.job_info.name).toBe('after');
    await finish(after, 'success');
    expect(await status(projectId, parent.id)).toBe('success');
  });
});
