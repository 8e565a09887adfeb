/**
 * End to end with real processes: a push triggers a pipeline that a real runner (shell executor)
 * runs; stage and needs order, artifacts between jobs, failure and allow_failure, manual jobs,
 * masked variables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { stripLogTimestamps } from '../../src/shared/log-timestamps.js';
import { Fleet } from '../helpers/fleet.js';

let fleet: Fleet;

beforeAll(async () => {
  fleet = await Fleet.start();
  await fleet.addRunner({ concurrent: 4 });
});

afterAll(async () => {
  await fleet?.stop();
});

const t = (iso: string | null): number => (iso ? Date.parse(iso) : NaN);

describe('pipeline flow', () => {
  it('runs a pushed pipeline in stage and needs order', async () => {
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': `
stages: [build, test]
slow:
  stage: build
  script: [sleep 3, echo slow done]
fast:
  stage: build
  script: [echo fast]
dag:
  stage: test
  needs: [fast]
  script: [echo dag]
staged:
  stage: test
  script: [echo staged]
`,
    });
    const pipeline = await fleet.api.waitForPipelineStatus(projectId, pipelineId, ['success', 'failed']);
    expect(pipeline.status, fleet.output()).toBe('success');
    expect(pipeline.source).toBe('push');
    const jobs = Object.fromEntries((await fleet.api.jobs(projectId, pipelineId)).map((j) => [j.name, j]));
    expect(t(jobs['dag'].started_at)).toBeLessThan(t(jobs['slow'].finished_at));
    expect(t(jobs['staged'].started_at)).toBeGreaterThanOrEqual(t(jobs['slow'].finished_at));
    expect(await fleet.trace(projectId, jobs['slow'].id)).toContain('slow done');
  });

  it('passes artifacts to later jobs', async () => {
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': `
make:
  stage: build
  script: [mkdir -p out, echo "artifact-content-42" > out/data.txt, echo ignored > out/skip.log]
  artifacts:
    paths: [out/]
    exclude: [out/*.log]
use:
  stage: test
  script: [cat out/data.txt, test ! -e out/skip.log]
`,
    });
    const pipeline = await fleet.api.waitForPipelineStatus(projectId, pipelineId, ['success', 'failed']);
    expect(pipeline.status, fleet.output()).toBe('success');
    const use = await fleet.jobByName(projectId, pipelineId, 'use');
    expect(await fleet.trace(projectId, use.id)).toContain('artifact-content-42');
    const make = await fleet.jobByName(projectId, pipelineId, 'make');
    const zip = await fetch(
      `${fleet.coordinator.url}/api/v4/projects/${projectId}/jobs/${make.id}/artifacts`,
      { headers: { 'PRIVATE-TOKEN': fleet.api.token } },
    );
    expect(zip.status).toBe(200);
    expect(zip.headers.get('content-type')).toBe('application/zip');
  });

  it('fails on a script error, tolerates allow_failure, and skips later stages', async () => {
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': `
stages: [test, deploy]
flaky:
  stage: test
  script: [exit 3]
  allow_failure: true
broken:
  stage: test
  script: [echo before, exit 7, echo never]
deploy:
  stage: deploy
  script: [echo deploy]
cleanup:
  stage: deploy
  when: on_failure
  script: [echo cleaning]
`,
    });
    const pipeline = await fleet.api.waitForPipelineStatus(projectId, pipelineId, ['success', 'failed']);
    expect(pipeline.status, fleet.output()).toBe('failed');
    const jobs = Object.fromEntries((await fleet.api.jobs(projectId, pipelineId)).map((j) => [j.name, j]));
    expect(jobs['flaky']).toMatchObject({
      status: 'failed',
      allow_failure: true,
      failure_reason: 'script_failure',
    });
    expect(jobs['broken']).toMatchObject({ status: 'failed', failure_reason: 'script_failure' });
    expect(jobs['deploy'].status).toBe('skipped');
    expect(jobs['cleanup'].status).toBe('success');
    // the log as the job printed it (the runner's FF_TIMESTAMPS line headers taken off)
    const log = stripLogTimestamps(await fleet.trace(projectId, jobs['broken'].id));
    expect(log).toContain('before');
    expect(log).not.toContain('\nnever');
    expect(log).toContain('exit code 7');
  });

  it('runs a manual job when it is played through the API', async () => {
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': `
build:
  stage: build
  script: [echo build]
release:
  stage: deploy
  when: manual
  script: [echo released-by-hand]
`,
    });
    const manual = await fleet.waitForJob(projectId, pipelineId, 'release', ['manual']);
    const pipeline = await fleet.api.waitForPipelineStatus(projectId, pipelineId, [
      'success',
      'manual',
      'failed',
    ]);
    expect(pipeline.status).toBe('success');
    const played = await fleet.api.post(`/projects/${projectId}/jobs/${manual.id}/play`);
    expect(played.status).toBe(200);
    const done = await fleet.waitForJob(projectId, pipelineId, 'release', ['success', 'failed']);
    expect(done.status, fleet.output()).toBe('success');
    expect(await fleet.trace(projectId, done.id)).toContain('released-by-hand');
  });

  it('never stores a masked variable in the log, even split across writes', async () => {
    const project = await fleet.api.createProject(`masked-${Date.now().toString(36)}`);
    const secret = 'Sup3rS3cretValue-xyz';
    const res = await fleet.api.post(`/projects/${project.id}/variables`, {
      key: 'DEPLOY_KEY',
      value: secret,
      masked: true,
    });
    expect(res.status).toBe(201);
    const { createWorkRepo, pushTo } = await import('../../harness/git-repo.js');
    const work = `${fleet.dir}/work/masked`;
    await createWorkRepo(work, {
      '.gitlab-ci.yml': `
show:
  script:
    - echo "value is $DEPLOY_KEY"
    - printf '%s' "\${DEPLOY_KEY:0:8}"; sleep 1; printf '%s\\n' "\${DEPLOY_KEY:8}"
    - echo "token $CI_JOB_TOKEN"
`,
    });
    await pushTo(work, fleet.coordinator.url, project.path_with_namespace, fleet.api.token);
    const pipeline = await fleet.api.waitForPipeline(project.id);
    const done = await fleet.api.waitForPipelineStatus(project.id, pipeline.id, ['success', 'failed']);
    expect(done.status, fleet.output()).toBe('success');
    const job = (await fleet.api.jobs(project.id, pipeline.id))[0];
    const log = await fleet.trace(project.id, job.id);
    expect(log).toContain('value is [MASKED]');
    expect(log).not.toContain(secret);
    expect(log).not.toContain(secret.slice(8));
    expect(log).toMatch(/token glcbt-\[MASKED\]|token \[MASKED\]/);
  });
});
