import type Docker from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';

import { dockerEnv, dockerFactory, dockerPayload, jobObjects, runDockerJob } from './harness.js';

let docker: Docker;
beforeAll(() => {
  docker = dockerEnv();
});

describe('docker executor: pull policies, allow lists, privileged', () => {
  it('pulls with "always" from a registry', async () => {
    await docker
      .getImage('127.0.0.1:5000/library/busybox:latest')
      .remove()
      .catch(() => undefined);
    const payload = dockerPayload(['echo pulled'], {
      image: { name: '127.0.0.1:5000/library/busybox:latest' },
    });
    const run = await runDockerJob(dockerFactory({ pull_policy: 'always' }), payload);
    expect(run.outcome.state, run.log).toBe('success');
    expect(run.log).toContain('Pulling docker image 127.0.0.1:5000/library/busybox:latest');
  });

  it('fails with "never" and a missing image, naming the image and why', async () => {
    const payload = dockerPayload(['echo never'], { image: { name: 'flotilla-test/missing:1' } });
    const run = await runDockerJob(dockerFactory({ pull_policy: 'never' }), payload);
    expect(run.outcome.state).toBe('failed');
    expect(run.outcome.failureReason).toBe('runner_system_failure');
    expect(run.outcome.message).toContain('failed to pull image "flotilla-test/missing:1"');
    expect(run.outcome.message).toContain('pull policy is "never"');
    expect(await jobObjects(docker, payload.id)).toEqual([]);
  });

  it('falls back to the next policy and reports a registry failure', async () => {
    const payload = dockerPayload(['echo x'], {
      image: { name: '127.0.0.1:5000/flotilla-test/absent:1', pull_policy: ['always', 'if-not-present'] },
    });
    const run = await runDockerJob(dockerFactory({ pull_policy: ['always', 'if-not-present'] }), payload);
    expect(run.outcome.state).toBe('failed');
    expect(run.log).toMatch(
      /Failed to pull image 127.0.0.1:5000\/flotilla-test\/absent:1 with policy "always": .*(not found|unknown)/i,
    );
    expect(run.outcome.message).toContain('127.0.0.1:5000/flotilla-test/absent:1');
  });

  it('refuses a job pull_policy outside allowed_pull_policies', async () => {
    const payload = dockerPayload(['echo x'], { image: { name: 'busybox:latest', pull_policy: ['always'] } });
    const run = await runDockerJob(
      dockerFactory({ pull_policy: 'if-not-present', allowed_pull_policies: ['if-not-present', 'never'] }),
      payload,
    );
    expect(run.outcome.state).toBe('failed');
    expect(run.log).toContain(
      'pull_policy ([always]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([if-not-present never])',
    );
  });

  it('refuses an image and a service outside the allow lists before anything starts', async () => {
    const image = dockerPayload(['echo x'], { image: { name: 'busybox:latest' } });
    const config = {
      pull_policy: 'if-not-present' as const,
      allowed_images: ['127.0.0.1:5000/**'],
      allowed_services: ['flotilla-test/*'],
    };
    const refused = await runDockerJob(dockerFactory(config), image);
    expect(refused.outcome.state).toBe('failed');
    expect(refused.log).toContain(
      'The "busybox:latest" image is not present on the list of allowed images:\n- 127.0.0.1:5000/**',
    );
    expect(refused.log).not.toContain('Pulling');
    expect(await jobObjects(docker, image.id)).toEqual([]);

    const service = dockerPayload(['echo x'], {
      image: { name: '127.0.0.1:5000/library/busybox:latest' },
      services: [{ name: 'postgres:16' }],
    });
    const refusedService = await runDockerJob(dockerFactory(config), service);
    expect(refusedService.log).toContain(
      'The "postgres:16" service is not present on the list of allowed services',
    );
    expect(await jobObjects(docker, service.id)).toEqual([]);
  });

  it('runs unprivileged unless the runner config turns privileged on', async () => {
    const plain = await runDockerJob(
      dockerFactory({ pull_policy: 'if-not-present' }),
      dockerPayload(['mkdir -p /mnt/t', 'mount -t tmpfs tmpfs /mnt/t', 'echo mounted']),
    );
    expect(plain.outcome).toMatchObject({ state: 'failed', failureReason: 'script_failure' });
    expect(plain.log).toMatch(/mount: permission denied|Operation not permitted/i);
    expect(plain.log).not.toContain('\nmounted');
  });

  it('fails clearly when the engine is unreachable', async () => {
    const payload = dockerPayload(['echo x']);
    const run = await runDockerJob(dockerFactory({ host: 'tcp://127.0.0.1:1' }), payload);
    expect(run.outcome).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure' });
    expect(run.outcome.message).toContain('Cannot connect to the Docker daemon at tcp://127.0.0.1:1');
  });
});
