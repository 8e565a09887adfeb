/**
 * End to end: parent-child pipelines through a real coordinator and a shell runner. Trigger jobs
 * are bridges the coordinator runs itself: it creates the child pipeline, passes the bridge's
 * variables down, mirrors a `strategy: depend` child, cancels children with the parent, refuses
 * children nested too deep, and `flotilla run` prints the children's logs.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Fleet } from '../helpers/fleet.js';
import { CLI } from '../helpers/processes.js';

const exec = promisify(execFile);
const FINAL = ['success', 'failed', 'canceled', 'skipped'];

let fleet: Fleet;

beforeAll(async () => {
  fleet = await Fleet.start();
  await fleet.addRunner({ concurrent: 4 });
});

afterAll(async () => {
  await fleet?.stop();
});

/** Pushes the files and returns the project and its top-level (push) pipeline. */
async function pushParent(files: Record<string, string>) {
  const pushed = await fleet.pushPipeline(files);
  const parent = await fleet.api.waitForPipeline(
    pushed.projectId,
    (p) => p.source === 'push',
    'push pipeline',
  );
  return { ...pushed, pipelineId: parent.id as number };
}

async function bridges(projectId: number, pipelineId: number): Promise<any[]> {
  const res = await fleet.api.get<any[]>(`/projects/${projectId}/pipelines/${pipelineId}/bridges`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

async function bridgeNamed(projectId: number, pipelineId: number, name: string): Promise<any> {
  const bridge = (await bridges(projectId, pipelineId)).find((b) => b.name === name);
  if (!bridge) throw new Error(`no bridge ${name} in pipeline ${pipelineId}`);
  return bridge;
}

const PARENT = `
stages: [build, trigger, after]
variables:
  GLOBAL_VAR: from-parent-global
build:
  stage: build
  script: [echo parent build]
child-ok:
  stage: trigger
  variables:
    BRIDGE_VAR: bridge-$CI_PROJECT_NAME
  trigger:
    include: child-ok.yml
child-bad:
  stage: trigger
  trigger:
    include:
      - local: child-bad.yml
    strategy: depend
after:
  stage: after
  script: [echo after]
`;

describe('child pipelines', () => {
  it('creates children from trigger jobs; a failing depend child fails the parent; variables reach the child', async () => {
    const { projectId, pipelineId, projectPath } = await pushParent({
      '.gitlab-ci.yml': PARENT,
      'child-ok.yml':
        'show:\n  script:\n    - echo "source=$CI_PIPELINE_SOURCE global=$GLOBAL_VAR bridge=$BRIDGE_VAR"\n',
      'child-bad.yml': 'fail:\n  script: [echo failing in child, exit 3]\n',
    });
    const parent = await fleet.api.waitForPipelineStatus(projectId, pipelineId, FINAL);
    expect(parent.status, fleet.output()).toBe('failed');

    const jobs = await fleet.api.jobs(projectId, pipelineId);
    expect(jobs.map((j) => j.name).sort()).toEqual(['after', 'build']);
    expect(jobs.find((j) => j.name === 'after')?.status).toBe('skipped');

    // child-ok does not block its parent (no strategy: depend): wait for its child on its own.
    const okChild = (await bridgeNamed(projectId, pipelineId, 'child-ok')).downstream_pipeline;
    await fleet.api.waitForPipelineStatus(projectId, okChild.id, FINAL);
    const list = await bridges(projectId, pipelineId);
    expect(list.map((b) => b.name).sort()).toEqual(['child-bad', 'child-ok']);
    const ok = list.find((b) => b.name === 'child-ok');
    const bad = list.find((b) => b.name === 'child-bad');
    expect(ok).toMatchObject({
      status: 'success',
      stage: 'trigger',
      ref: 'main',
      pipeline: { id: pipelineId, project_id: projectId, source: 'push' },
      downstream_pipeline: { status: 'success', source: 'parent_pipeline', ref: 'main', sha: parent.sha },
    });
    expect(ok.downstream_pipeline.web_url).toContain(
      `/${projectPath}/-/pipelines/${ok.downstream_pipeline.id}`,
    );
    expect(bad).toMatchObject({ status: 'failed', downstream_pipeline: { status: 'failed' } });

    const all = (await fleet.api.get<any[]>(`/projects/${projectId}/pipelines`)).body;
    const children = all.filter((p) => p.source === 'parent_pipeline').map((p) => p.id);
    expect(children.sort()).toEqual([ok.downstream_pipeline.id, bad.downstream_pipeline.id].sort());

    const [show] = await fleet.api.jobs(projectId, ok.downstream_pipeline.id);
    const log = await fleet.trace(projectId, show.id);
    const projectName = projectPath.split('/')[1];
    expect(log).toContain(`source=parent_pipeline global=from-parent-global bridge=bridge-${projectName}`);

    const retried = await fleet.api.post(`/projects/${projectId}/jobs/${bad.id}/retry`);
    expect(retried.status, retried.text).toBe(201);
    const again = await fleet.api.until(async () => {
      const b = await bridgeNamed(projectId, pipelineId, 'child-bad');
      return b.id !== bad.id && b.downstream_pipeline && FINAL.includes(b.status) ? b : undefined;
    }, 'the retried bridge to finish');
    expect(again.downstream_pipeline.id).not.toBe(bad.downstream_pipeline.id);
    expect(again.status).toBe('failed');
  });

  it('cancels the child pipelines with the parent', async () => {
    const { projectId, pipelineId } = await pushParent({
      '.gitlab-ci.yml': 'long-child:\n  trigger:\n    include: long.yml\n    strategy: depend\n',
      'long.yml': 'sleepy:\n  script: [echo child started, sleep 300]\n',
    });
    const started = await fleet.api.until(async () => {
      const b = await bridgeNamed(projectId, pipelineId, 'long-child');
      if (!b.downstream_pipeline) return undefined;
      const [job] = await fleet.api.jobs(projectId, b.downstream_pipeline.id);
      return job?.status === 'running' ? b : undefined;
    }, 'the child job to run');
    expect(started.status).toBe('running');
    expect((await fleet.api.get(`/projects/${projectId}/pipelines/${pipelineId}`)).body.status).toBe(
      'running',
    );

    const canceled = await fleet.api.post(`/projects/${projectId}/pipelines/${pipelineId}/cancel`);
    expect(canceled.status, canceled.text).toBe(200);
    const child = await fleet.api.waitForPipelineStatus(projectId, started.downstream_pipeline.id, FINAL);
    expect(child.status, fleet.output()).toBe('canceled');
    const parent = await fleet.api.waitForPipelineStatus(projectId, pipelineId, FINAL);
    expect(parent.status).toBe('canceled');
    expect((await bridgeNamed(projectId, pipelineId, 'long-child')).status).toBe('canceled');
  });

  it('fails a bridge whose child has yaml errors or would nest too deep, saying why', async () => {
    const { projectId, pipelineId } = await pushParent({
      '.gitlab-ci.yml': `
broken:
  trigger:
    include: broken.yml
level1:
  trigger:
    include: level1.yml
    strategy: depend
`,
      'broken.yml': 'job:\n  script: [echo]\n  when: sometimes\n',
      'level1.yml': 'level2:\n  trigger:\n    include: level2.yml\n    strategy: depend\n',
      'level2.yml': 'level3:\n  trigger:\n    include: level3.yml\n',
      'level3.yml': 'never:\n  script: [echo too deep]\n',
    });
    const parent = await fleet.api.waitForPipelineStatus(projectId, pipelineId, FINAL);
    expect(parent.status, fleet.output()).toBe('failed');

    const broken = await bridgeNamed(projectId, pipelineId, 'broken');
    expect(broken).toMatchObject({ status: 'failed', failure_reason: 'downstream_pipeline_creation_failed' });
    const child = (await fleet.api.get(`/projects/${projectId}/pipelines/${broken.downstream_pipeline.id}`))
      .body;
    expect(child).toMatchObject({ status: 'failed', source: 'parent_pipeline' });
    expect(child.yaml_errors).toContain('jobs:job:when config should be one of');
    expect(await fleet.trace(projectId, broken.id)).toContain('has configuration errors');

    const level1 = await bridgeNamed(projectId, pipelineId, 'level1');
    expect(level1.status).toBe('failed');
    const level2 = await bridgeNamed(projectId, level1.downstream_pipeline.id, 'level2');
    expect(level2.status).toBe('failed');
    const level3 = await bridgeNamed(projectId, level2.downstream_pipeline.id, 'level3');
    expect(level3).toMatchObject({
      status: 'failed',
      failure_reason: 'reached_max_descendant_pipelines_depth',
      downstream_pipeline: null,
    });
    expect(await fleet.trace(projectId, level3.id)).toContain(
      'more than 2 levels below the top-level pipeline',
    );
  });

  it('flotilla run prints the child jobs and exits 1 for a failing depend child', async () => {
    const repo = path.join(fleet.dir, 'cli-child');
    await mkdir(repo, { recursive: true });
    await exec('git', ['init', '-q', '-b', 'main'], { cwd: repo });
    await writeFile(
      path.join(repo, '.gitlab-ci.yml'),
      'tests:\n  trigger:\n    include: tests.yml\n    strategy: depend\n',
    );
    await writeFile(path.join(repo, 'tests.yml'), 'unit:\n  script: [echo unit-from-child, exit 2]\n');
    let code = 0;
    let out = '';
    try {
      const r = await exec(process.execPath, [CLI, 'run', repo, '--no-color', '--executor', 'shell'], {
        env: { ...process.env, NO_COLOR: '1' },
        maxBuffer: 64 * 1024 * 1024,
      });
      out = r.stdout + r.stderr;
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      code = typeof e.code === 'number' ? e.code : 1;
      out = (e.stdout ?? '') + (e.stderr ?? '');
    }
    expect(code, out).toBe(1);
    expect(out).toMatch(/tests\/unit\s*\| unit-from-child/);
    expect(out).toMatch(/Pipeline #\d+ failed/);
    expect(out).toMatch(/tests\s+failed\s+-> child pipeline #\d+/);
    expect(out).toMatch(/Child pipeline \(tests\) #\d+ failed/);
  });
});
