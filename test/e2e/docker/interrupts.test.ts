import type Docker from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';

import { cleanupLeftovers } from '../../../src/executors/docker/cleanup.js';
import { dockerEnv, dockerFactory, dockerPayload, jobObjects, runDockerJob, SHORT_TOKEN } from './harness.js';

let docker: Docker;
beforeAll(() => {
  docker = dockerEnv();
});

const afterScript = {
  name: 'after_script',
  script: ['echo "after: $CI_JOB_STATUS"'],
  timeout: 3600,
  when: 'always' as const,
  allow_failure: true,
};

describe('docker executor: cancel, timeout, leftovers', () => {
  it('cancel stops the containers, runs after_script and leaves nothing behind', async () => {
    const base = dockerPayload(['echo started', 'sleep 300']);
    const payload = {
      ...base,
      steps: [...base.steps, afterScript],
      services: [{ name: 'flotilla-test/web:latest', alias: 'web' }],
    };
    let stepStarted = 0;
    const run = await runDockerJob(dockerFactory({ pull_policy: 'if-not-present' }), payload, {
      interrupt: { kind: 'cancel', afterMs: 9000 },
      onStage: (s) => void (s === 'step_script' && (stepStarted = performance.now())),
    });
    expect(stepStarted).toBeGreaterThan(0);
    expect(run.outcome.state).toBe('failed');
    expect(run.outcome.message).toContain('canceled');
    expect(run.log).toContain('after: canceled');
    expect(run.seconds).toBeLessThan(60);
    expect(await jobObjects(docker, payload.id)).toEqual([]);
  });

  it('timeout stops the job as job_execution_timeout and leaves nothing behind', async () => {
    const base = dockerPayload(['sleep 300']);
    const payload = { ...base, steps: [...base.steps, afterScript], runner_info: { timeout: 8 } };
    const run = await runDockerJob(dockerFactory({ pull_policy: 'if-not-present' }), payload);
    expect(run.outcome).toMatchObject({ state: 'failed', failureReason: 'job_execution_timeout' });
    expect(run.log).toContain('after: failed');
    expect(await jobObjects(docker, payload.id)).toEqual([]);
  });

  it('cleanupLeftovers removes what a crashed manager left, and keeps cache volumes', async () => {
    const labels = {
      'com.flotilla.managed': 'true',
      'com.flotilla.runner': SHORT_TOKEN,
      'com.flotilla.job.id': '999999999',
    };
    await docker.createNetwork({ Name: 'flotilla-e2e-leftover-network', Labels: labels });
    await docker.createVolume({ Name: 'flotilla-e2e-leftover-builds', Labels: labels });
    await docker.createVolume({
      Name: 'flotilla-e2e-kept-cache',
      Labels: { 'com.flotilla.managed': 'true', 'com.flotilla.runner': SHORT_TOKEN },
    });
    const c = await docker.createContainer({
      name: 'flotilla-e2e-leftover',
      Image: 'busybox:latest',
      Cmd: ['sleep', '300'],
      Labels: labels,
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    const report = await cleanupLeftovers(docker, SHORT_TOKEN);
    expect(report).toMatchObject({ containers: 1, networks: 1, volumes: 1, errors: [] });
    expect(await jobObjects(docker, 999999999)).toEqual([]);
    await docker.getVolume('flotilla-e2e-kept-cache').inspect();
    await docker.getVolume('flotilla-e2e-kept-cache').remove();
  });
});
