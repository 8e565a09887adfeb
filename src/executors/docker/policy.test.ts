import { describe, expect, it } from 'vitest';

import { authForImage, authFromDockerConfig } from './auth.js';
import { dockerConfigSchema, type DockerConfigInput } from './docker-config.js';
import { imageAllowed, registryOf } from './image-names.js';
import { checkServices, chooseJobImage, resolvePullPolicies } from './policy.js';

const config = (input: DockerConfigInput = {}) => dockerConfigSchema.parse(input);

describe('[runners.docker] schema', () => {
  it('has gitlab-runner defaults', () => {
    expect(config()).toMatchObject({
      privileged: false,
      pull_policy: ['always'],
      wait_for_services_timeout: 30,
      disable_cache: false,
      tls_verify: false,
      volumes: [],
      shm_size: 0,
    });
  });

  it.each([{ pull_policy: 'sometimes' }, { memory: 'lots' }, { host: 'ftp://x' }, { unknown_key: 1 }])(
    'rejects %j',
    (input) => {
      expect(dockerConfigSchema.safeParse(input).success).toBe(false);
    },
  );

  it('describes every key', () => {
    for (const [key, schema] of Object.entries(dockerConfigSchema.shape))
      expect(schema.description, key).toBeTruthy();
  });
});

describe('allow lists', () => {
  it.each([
    ['ruby:3.3', ['ruby:*'], true],
    ['ruby', ['ruby:*'], true],
    ['library/ruby:3', ['ruby:*'], false],
    ['127.0.0.1:5000/a/b:1', ['127.0.0.1:5000/**'], true],
    ['127.0.0.1:5000/a/b:1', ['127.0.0.1:5000/*'], false],
    ['anything:1', [], true],
  ])('%s against %j → %s', (image, patterns, allowed) => {
    expect(imageAllowed(image, patterns)).toBe(allowed);
  });

  it('refuses with the list in the reason, and takes the default image', () => {
    expect(chooseJobImage(null, config({ image: 'alpine:3' }))).toEqual({ ok: true, value: 'alpine:3' });
    expect(chooseJobImage(null, config())).toMatchObject({
      ok: false,
      reason: expect.stringContaining('no image'),
    });
    const refused = chooseJobImage({ name: 'evil:1' }, config({ allowed_images: ['ruby:*'] }));
    expect(refused).toMatchObject({
      ok: false,
      reason: expect.stringContaining(
        'The "evil:1" image is not present on the list of allowed images:\n- ruby:*',
      ),
    });
    expect(checkServices([{ name: 'redis:7' }], config({ allowed_services: ['postgres:*'] }))).toMatchObject({
      ok: false,
    });
  });
});

describe('pull policies', () => {
  it.each([
    [undefined, {}, ['always']],
    // GitLab sends `pull_policy: null` when the job sets none.
    [null, { pull_policy: ['if-not-present'] }, ['if-not-present']],
    [undefined, { pull_policy: ['always', 'if-not-present'] }, ['always', 'if-not-present']],
    [['if-not-present'], { pull_policy: ['always', 'if-not-present'] }, ['if-not-present']],
    [['never'], { pull_policy: 'always', allowed_pull_policies: ['never', 'always'] }, ['never']],
  ] as [string[] | null | undefined, DockerConfigInput, string[]][])(
    'job %j with runner %j → %j',
    (job, runner, expected) => {
      expect(resolvePullPolicies(job, config(runner))).toEqual({ ok: true, value: expected });
    },
  );

  it.each([
    [
      ['always'],
      { pull_policy: 'if-not-present' },
      'pull_policy ([always]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([if-not-present])',
    ],
    [undefined, { pull_policy: 'always', allowed_pull_policies: ['never'] }, 'defined in Runner config'],
    [['sometimes'], {}, 'unknown pull_policy sometimes'],
  ] as [string[] | undefined, DockerConfigInput, string][])(
    'refuses job %j with runner %j',
    (job, runner, reason) => {
      expect(resolvePullPolicies(job, config(runner))).toMatchObject({
        ok: false,
        reason: expect.stringContaining(reason),
      });
    },
  );
});

describe('registry credentials', () => {
  const auth = (user: string) => Buffer.from(`${user}:pw`).toString('base64');
  const dockerAuth = JSON.stringify({
    auths: {
      'https://index.docker.io/v1/': { auth: auth('hub') },
      'registry.example.com': { username: 'u', password: 'p' },
    },
  });

  it.each([
    ['busybox', 'docker.io'],
    ['library/busybox:1', 'docker.io'],
    ['registry.example.com/a/b', 'registry.example.com'],
    ['127.0.0.1:5000/x', '127.0.0.1:5000'],
    ['localhost/x', 'localhost'],
  ])('%s comes from %s', (image, registry) => {
    expect(registryOf(image)).toBe(registry);
  });

  it('reads DOCKER_AUTH_CONFIG entries by registry', () => {
    expect(authFromDockerConfig(dockerAuth, 'docker.io')).toEqual({
      username: 'hub',
      password: 'pw',
      serveraddress: 'docker.io',
    });
    expect(authFromDockerConfig(dockerAuth, 'registry.example.com')).toMatchObject({
      username: 'u',
      password: 'p',
    });
    expect(authFromDockerConfig('not json', 'docker.io')).toBeNull();
  });

  it('prefers the job variable, then the runner environment, then payload credentials', () => {
    const credentials = [
      { type: 'registry', url: 'registry.example.com', username: 'gitlab-ci-token', password: 'glcbt-x' },
    ];
    expect(
      authForImage('registry.example.com/a', {
        jobDockerAuthConfig: dockerAuth,
        runnerDockerAuthConfig: undefined,
        credentials,
      })?.source,
    ).toBe('DOCKER_AUTH_CONFIG variable');
    expect(
      authForImage('registry.example.com/a', {
        jobDockerAuthConfig: undefined,
        runnerDockerAuthConfig: dockerAuth,
        credentials,
      })?.source,
    ).toBe("runner's DOCKER_AUTH_CONFIG");
    expect(
      authForImage('registry.example.com/a', {
        jobDockerAuthConfig: undefined,
        runnerDockerAuthConfig: undefined,
        credentials,
      })?.auth.username,
    ).toBe('gitlab-ci-token');
    expect(
      authForImage('busybox', {
        jobDockerAuthConfig: undefined,
        runnerDockerAuthConfig: undefined,
        credentials,
      }),
    ).toBeNull();
  });
});
