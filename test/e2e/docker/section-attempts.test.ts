/**
 * EXECUTOR_JOB_SECTION_ATTEMPTS against a real Docker Engine fault, through a real coordinator and
 * a real runner process with the docker executor. While the job's script runs in its build
 * container (waiting for a file the test creates), the test removes the job's helper container
 * from outside (`docker rm -f`, as an operator's cleanup script or an engine restart would); the
 * next stage that needs the helper (`upload_artifacts_on_success`) then gets an Engine error
 * (`no such container`): a system failure, not an exit code. With EXECUTOR_JOB_SECTION_ATTEMPTS=2
 * the stage runs again on a fresh helper and the job succeeds with its artifact; with the default
 * the job fails `runner_system_failure`. A script's non-zero exit is never retried.
 */
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Fleet } from '../../helpers/fleet.js';
import { dockerEnv, jobObjects } from './harness.js';

const TAG = 'section-attempts';
let docker: Docker;
let fleet: Fleet;

beforeAll(async () => {
  docker = dockerEnv();
  fleet = await Fleet.start();
  await fleet.addRunner({
    tags: [TAG],
    concurrent: 1,
    executor: 'docker',
    extraRunner: [
      '  [runners.docker]',
      '    image = "busybox:latest"',
      '    pull_policy = ["if-not-present"]',
    ].join('\n'),
  });
});

afterAll(async () => {
  await fleet?.stop();
});

function pipeline(variables: Record<string, string>, script: string[]): Record<string, string> {
  const vars = Object.entries(variables).map(([k, v]) => `    ${k}: "${v}"`);
  return {
    '.gitlab-ci.yml': [
      'build:',
      `  tags: [${TAG}]`,
      '  image: busybox:latest',
      '  variables:',
      '    GIT_STRATEGY: none',
      ...vars,
      '  script:',
      ...script.map((line) => `    - ${JSON.stringify(line)}`),
      '  artifacts:',
      '    paths: [out.txt]',
      '',
    ].join('\n'),
  };
}

/** The script: waits until the test has removed the helper and created /tmp/go, then makes the artifact. */
const WAITING_SCRIPT = [
  'echo script-started',
  'until [ -f /tmp/go ]; do sleep 0.2; done',
  'echo made-by-the-script > out.txt',
];

async function containersOf(jobId: number, type: string): Promise<Docker.ContainerInfo[]> {
  const filters = JSON.stringify({
    label: [`com.flotilla.job.id=${jobId}`, `com.flotilla.type=${type}`],
    status: ['running'],
  });
  return docker.listContainers({ filters });
}

/** Once the job's build container runs, removes its helper from outside, then lets the script end. */
async function removeHelperMidJob(jobId: number): Promise<string> {
  const build = await fleet.api.until(
    async () => (await containersOf(jobId, 'build'))[0],
    `the build container of job ${jobId}`,
    1200,
  );
  const helpers = await containersOf(jobId, 'helper');
  expect(helpers.length, 'the helper container exists while the script runs').toBe(1);
  const helper = helpers[0]!;
  await docker.getContainer(helper.Id).remove({ force: true });
  const exec = await docker.getContainer(build.Id).exec({ Cmd: ['touch', '/tmp/go'] });
  await exec.start({ hijack: true, stdin: false });
  return helper.Id;
}

async function runWithHelperRemoved(variables: Record<string, string>) {
  const { projectId, pipelineId } = await fleet.pushPipeline(pipeline(variables, WAITING_SCRIPT));
  const queued = await fleet.jobByName(projectId, pipelineId, 'build');
  const removed = await removeHelperMidJob(queued.id);
  const job = await fleet.waitForJob(projectId, pipelineId, 'build', ['success', 'failed', 'canceled']);
  const log = await fleet.trace(projectId, job.id);
  return { projectId, job, log, removed };
}

describe('EXECUTOR_JOB_SECTION_ATTEMPTS with a real Docker Engine fault (the helper container removed mid-job)', () => {
  it('runs the failed stage again on a fresh helper and succeeds with EXECUTOR_JOB_SECTION_ATTEMPTS=2', async () => {
    const { projectId, job, log, removed } = await runWithHelperRemoved({
      EXECUTOR_JOB_SECTION_ATTEMPTS: '2',
    });
    expect(job.status, `${log}\n${fleet.output()}`).toBe('success');
    expect(log).toMatch(
      /WARNING: Uploading artifacts for successful job failed \(system failure, attempt 1 of 2\): .*(no such container|No such container)/i,
    );
    expect(log).toContain(removed.slice(0, 12));
    expect(log).toContain('Retrying upload_artifacts_on_success (attempt 2 of 2)...');
    expect(log).toMatch(/^script-started$/m);
    expect(log).toContain('Job succeeded');
    // the artifact was uploaded by the second attempt
    const artifact = await fleet.api.get(`/projects/${projectId}/jobs/${job.id}/artifacts/out.txt`);
    expect(artifact.status).toBe(200);
    expect(artifact.text).toBe('made-by-the-script\n');
    expect(await jobObjects(docker, job.id)).toEqual([]);
  });

  it('fails the job runner_system_failure with the default of one attempt', async () => {
    const { job, log } = await runWithHelperRemoved({});
    expect(job.status, `${log}\n${fleet.output()}`).toBe('failed');
    expect(job.failure_reason).toBe('runner_system_failure');
    expect(log).toMatch(/ERROR: Job failed \(system failure\): .*(no such container|No such container)/i);
    expect(log).not.toContain('Retrying');
    expect(await jobObjects(docker, job.id)).toEqual([]);
  });

  it('does not retry a script’s non-zero exit, whatever EXECUTOR_JOB_SECTION_ATTEMPTS says', async () => {
    const { projectId, pipelineId } = await fleet.pushPipeline(
      pipeline({ EXECUTOR_JOB_SECTION_ATTEMPTS: '3' }, ['echo ran-the-script', 'exit 3']),
    );
    const job = await fleet.waitForJob(projectId, pipelineId, 'build', ['success', 'failed', 'canceled']);
    const log = await fleet.trace(projectId, job.id);
    expect(job.status, log).toBe('failed');
    expect(job.failure_reason).toBe('script_failure');
    expect(log.match(/^ran-the-script$/gm)).toHaveLength(1);
    expect(log).not.toContain('Retrying');
    expect(log).not.toContain('system failure');
    expect(log).toContain('ERROR: Job failed: exit code 3');
  });
});
