import type Docker from 'dockerode';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';

import { dockerEnv, dockerFactory, dockerPayload, jobObjects, runDockerJob } from './harness.js';

let docker: Docker;
beforeAll(() => {
  docker = dockerEnv();
});

describe('docker executor: jobs in an image', () => {
  it('runs a script in the job image and removes everything afterwards', async () => {
    const payload = dockerPayload([
      'echo "hello from $(cat /etc/hostname | wc -c) $CI_PROJECT_DIR"',
      'pwd',
      'printf "no newline"',
    ]);
    const registry = new Registry();
    const run = await runDockerJob(dockerFactory({ pull_policy: 'if-not-present' }, registry), payload);
    expect(run.outcome.state, run.log).toBe('success');
    expect(run.log).toContain('hello from');
    const metrics = await registry.metrics();
    expect(metrics).toContain('flotilla_docker_image_pull_duration_seconds_count{result="success"} 2');
    expect(metrics).toContain('flotilla_docker_container_start_duration_seconds_count{type="helper"} 1');
    expect(metrics).toContain('flotilla_docker_container_start_duration_seconds_count{type="build"} 1');
    expect(run.log).toContain('/builds/group/p');
    expect(run.log).toContain('no newline');
    expect(await jobObjects(docker, payload.id)).toEqual([]);
    console.log(`trivial job on the docker executor: ${run.seconds.toFixed(2)} s`);
  });

  it('reports the exit code of a failing command', async () => {
    const payload = dockerPayload(['echo before', 'exit 3', 'echo never']);
    const run = await runDockerJob(dockerFactory({ pull_policy: 'if-not-present' }), payload);
    expect(run.outcome).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: 3 });
    expect(run.log).toContain('before');
    expect(run.log).not.toContain('\nnever');
  });
});
