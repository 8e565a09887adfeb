import { beforeAll, describe, expect, it } from 'vitest';

import { dockerEnv, dockerFactory, dockerPayload, runDockerJob } from './harness.js';
import { gitlabImage, gitlabService } from '../../kits/api/gitlab-images.js';

beforeAll(() => {
  dockerEnv();
});

describe('docker executor: services', () => {
  it('reaches a service by its aliases and GitLab derived names on the per-job network', async () => {
    const payload = dockerPayload(
      [
        'wget -qO- http://web/',
        'wget -qO- http://www/',
        'wget -qO- http://flotilla-test-web/',
        'wget -qO- http://flotilla-test__web/',
        'echo "svc var: $SERVICE_GREETING"',
      ],
      {
        services: [
          {
            name: 'flotilla-test/web:latest',
            alias: 'web,www',
            variables: [{ key: 'SERVICE_GREETING', value: 'hi', public: true, masked: false }],
          },
        ],
      },
    );
    const run = await runDockerJob(dockerFactory({ pull_policy: 'if-not-present' }), payload);
    expect(run.outcome.state, run.log).toBe('success');
    expect(run.log.match(/hello from the web service/g)?.length).toBe(4);
    expect(run.log).toContain('Waiting for services to be up and running');
    expect(run.log).not.toContain('WARNING: Service');
  });

  it("runs a payload whose image and services have GitLab's full shapes (null and empty fields)", async () => {
    const payload = dockerPayload(['wget -qO- http://web/', 'wget -qO- http://flotilla-test-web/'], {
      services: [gitlabService('flotilla-test/web:latest', { alias: 'web' })],
    });
    payload.image = payload.image ? { ...payload.image, ...gitlabImage(payload.image.name) } : null;
    const run = await runDockerJob(dockerFactory({ pull_policy: 'if-not-present' }), payload);
    expect(run.outcome.state, run.log).toBe('success');
    expect(run.log.match(/hello from the web service/g)?.length).toBe(2);
  });

  it('warns with the service log when a service crashes or never answers, and the job goes on', async () => {
    const payload = dockerPayload(['echo job ran'], {
      services: [
        {
          name: 'flotilla-test/web:latest',
          alias: 'crashing',
          entrypoint: ['sh', '-c', 'echo database is corrupt >&2; exit 4'],
        },
        {
          name: 'flotilla-test/web:latest',
          alias: 'silent',
          command: ['sh', '-c', 'echo listening soon; sleep 300'],
        },
      ],
    });
    const run = await runDockerJob(
      dockerFactory({ pull_policy: 'if-not-present', wait_for_services_timeout: 2 }),
      payload,
    );
    expect(run.outcome.state, run.log).toBe('success');
    expect(run.log).toMatch(/WARNING:.* Service \S+-svc-0-\S+ probably didn't start properly/);
    expect(run.log).toContain('exited with code 4');
    expect(run.log).toContain('database is corrupt');
    expect(run.log).toMatch(/Service \S+-svc-1-\S+ probably didn't start properly/);
    expect(run.log).toContain('timeout');
    expect(run.log).toContain('listening soon');
    expect(run.log).toContain('job ran');
  });
});
