/**
 * End to end: cancelling a running job (after_script still runs), job timeouts, and a runner
 * killed with SIGKILL leading to runner_system_failure on the coordinator's side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Fleet } from '../helpers/fleet.js';

let fleet: Fleet;

beforeAll(async () => {
  // Above the runner's 3 s trace update interval with room for a loaded machine (at 3 s, a running
  // job's contact only just late was failed as stale), still short enough for the SIGKILL test.
  fleet = await Fleet.start(['--runner-stale-seconds', '10']);
  await fleet.addRunner({ concurrent: 2 });
});

afterAll(async () => {
  await fleet?.stop();
});

describe('job control', () => {
  it('cancels a running job: the script stops and after_script runs', async () => {
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': `
long:
  script: [echo started, sleep 120, echo not-reached]
  after_script: [echo "after_script ran with status $CI_JOB_STATUS"]
`,
    });
    const job = await fleet.waitForJob(projectId, pipelineId, 'long', ['running']);
    await fleet.api.until(
      async () => (await fleet.trace(projectId, job.id)).includes('started'),
      'the job to print',
    );
    const canceled = await fleet.api.post(`/projects/${projectId}/jobs/${job.id}/cancel`);
    expect(canceled.body.status).toBe('canceling');
    const done = await fleet.waitForJob(projectId, pipelineId, 'long', ['canceled', 'failed', 'success']);
    expect(done.status, fleet.output()).toBe('canceled');
    const log = await fleet.trace(projectId, job.id);
    expect(log).toContain('after_script ran with status canceled');
    expect(log).not.toContain('not-reached');
    const pipeline = await fleet.api.get(`/projects/${projectId}/pipelines/${pipelineId}`);
    expect(pipeline.body.status).toBe('canceled');
  });

  it('fails a job that runs past its timeout with job_execution_timeout', async () => {
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': `
slow:
  timeout: 3s
  script: [sleep 60]
  after_script: [echo after-timeout]
`,
    });
    const done = await fleet.waitForJob(projectId, pipelineId, 'slow', ['failed', 'success']);
    expect(done.failure_reason, fleet.output()).toBe('job_execution_timeout');
    expect(await fleet.trace(projectId, done.id)).toContain('after-timeout');
  });

  it('fails the job with runner_system_failure when its runner is killed', async () => {
    const victim = await fleet.addRunner({ tags: ['victim'], concurrent: 1 });
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': `
doomed:
  tags: [victim]
  script: [echo running, sleep 120]
`,
    });
    const job = await fleet.waitForJob(projectId, pipelineId, 'doomed', ['running']);
    victim.proc.signal('SIGKILL');
    await victim.proc.exited;
    const done = await fleet.waitForJob(projectId, pipelineId, 'doomed', ['failed', 'success', 'canceled']);
    expect(done.id).toBe(job.id);
    expect(done.failure_reason, fleet.output()).toBe('runner_system_failure');
    const log = await fleet.trace(projectId, job.id);
    expect(log).toContain(
      "the runner stopped contacting the coordinator about this job for 10 seconds (the runner's process or host died, or the network to it is down); failed by the coordinator's watchdog (--runner-stale-seconds 10)",
    );
  });
});
