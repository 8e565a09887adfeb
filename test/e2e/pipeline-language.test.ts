/**
 * End to end: pipeline-language features that need the coordinator and a real runner: automatic
 * retry, coverage, resource groups, auto-cancel of interruptible pipelines, delayed jobs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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

describe('pipeline language on the coordinator', () => {
  it('retries a failed job automatically (retry:max) and records coverage', async () => {
    const marker = `${fleet.dir}/retry-marker`;
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': `
flaky:
  retry: 2
  coverage: '/Coverage: \\d+\\.\\d+%/'
  script:
    - 'echo "Coverage: 73.40% of lines"'
    - test -f ${marker} || { touch ${marker}; exit 1; }
`,
    });
    const pipeline = await fleet.api.waitForPipelineStatus(projectId, pipelineId, ['success', 'failed']);
    expect(pipeline.status, fleet.output()).toBe('success');
    const all = (
      await fleet.api.get(`/projects/${projectId}/pipelines/${pipelineId}/jobs?include_retried=true`)
    ).body;
    expect(all.map((j: any) => j.status).sort()).toEqual(['failed', 'success']);
    const visible = await fleet.api.jobs(projectId, pipelineId);
    expect(visible).toHaveLength(1);
    expect(visible[0].coverage).toBe(73.4);
  });

  it('runs at most one job of a resource group at a time', async () => {
    const yaml = `
deploy:
  resource_group: production
  script: [echo deploying, sleep 2, echo deployed]
`;
    const a = await fleet.pushPipeline({ '.gitlab-ci.yml': yaml });
    const again = await fleet.pushMore(a.workDir, a.projectPath, { 'second.txt': 'x' });
    const b = await fleet.api.waitForPipeline(a.projectId, (p) => p.sha === again);
    await fleet.api.waitForPipelineStatus(a.projectId, a.pipelineId, ['success', 'failed', 'canceled']);
    await fleet.api.waitForPipelineStatus(a.projectId, b.id, ['success', 'failed', 'canceled']);
    const [ja] = await fleet.api.jobs(a.projectId, a.pipelineId);
    const [jb] = await fleet.api.jobs(a.projectId, b.id);
    expect(ja.status, fleet.output()).toBe('success');
    expect(jb.status).toBe('success');
    const [first, second] = t(ja.started_at) < t(jb.started_at) ? [ja, jb] : [jb, ja];
    expect(t(second.started_at)).toBeGreaterThanOrEqual(t(first.finished_at));
  });

  it('auto-cancels an older pipeline of the branch whose jobs are interruptible', async () => {
    const yaml = `
long:
  interruptible: true
  script: [sleep 120]
`;
    const a = await fleet.pushPipeline({ '.gitlab-ci.yml': yaml });
    await fleet.waitForJob(a.projectId, a.pipelineId, 'long', ['running']);
    await fleet.pushMore(a.workDir, a.projectPath, { '.gitlab-ci.yml': 'quick:\n  script: [echo newer]\n' });
    const old = await fleet.api.waitForPipelineStatus(a.projectId, a.pipelineId, [
      'canceled',
      'success',
      'failed',
    ]);
    expect(old.status, fleet.output()).toBe('canceled');
  });

  it('keeps a non-interruptible started pipeline running (conservative auto-cancel)', async () => {
    const a = await fleet.pushPipeline({ '.gitlab-ci.yml': 'steady:\n  script: [sleep 3, echo kept]\n' });
    await fleet.waitForJob(a.projectId, a.pipelineId, 'steady', ['running']);
    await fleet.pushMore(a.workDir, a.projectPath, { 'other.txt': 'y' });
    const old = await fleet.api.waitForPipelineStatus(a.projectId, a.pipelineId, [
      'canceled',
      'success',
      'failed',
    ]);
    expect(old.status).toBe('success');
  });

  it('passes dotenv report variables to later jobs', async () => {
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': `
build:
  stage: build
  script: [echo "BUILD_VERSION=1.2.3" > build.env]
  artifacts:
    reports:
      dotenv: build.env
use:
  stage: test
  script: [echo "version is $BUILD_VERSION"]
`,
    });
    const pipeline = await fleet.api.waitForPipelineStatus(projectId, pipelineId, ['success', 'failed']);
    expect(pipeline.status, fleet.output()).toBe('success');
    const use = await fleet.jobByName(projectId, pipelineId, 'use');
    expect(await fleet.trace(projectId, use.id)).toContain('version is 1.2.3');
    const build = await fleet.jobByName(projectId, pipelineId, 'build');
    expect(build.artifacts.map((a: any) => a.file_type)).toContain('dotenv');
  });

  it('starts a delayed job after start_in', async () => {
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': 'later:\n  when: delayed\n  start_in: 2 seconds\n  script: [echo delayed-ran]\n',
    });
    const scheduled = await fleet.waitForJob(projectId, pipelineId, 'later', [
      'scheduled',
      'pending',
      'running',
      'success',
    ]);
    expect(['scheduled', 'pending', 'running', 'success']).toContain(scheduled.status);
    const done = await fleet.waitForJob(projectId, pipelineId, 'later', ['success', 'failed']);
    expect(done.status, fleet.output()).toBe('success');
  });
});
