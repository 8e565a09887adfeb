import { describe, expect, it } from 'vitest';

import { gitlabImage, gitlabService } from '../../../../test/kits/api/gitlab-images.js';
import { payloadImage, payloadService } from './payload-images.js';

describe('payload image and services in GitLab full shapes', () => {
  it('sends every image field, null or empty when the job sets none', () => {
    expect(payloadImage({ name: 'alpine:3' })).toStrictEqual(gitlabImage('alpine:3'));
    expect(payloadImage(null)).toBeNull();
  });

  it('keeps what the job sets', () => {
    expect(
      payloadImage({
        name: 'node:20',
        entrypoint: [''],
        pullPolicy: ['if-not-present'],
        docker: { user: '1000', platform: 'arm64' },
      }),
    ).toStrictEqual(
      gitlabImage('node:20', {
        entrypoint: [''],
        executor_opts: { docker: { user: '1000', platform: 'arm64' } },
        pull_policy: ['if-not-present'],
      }),
    );
  });

  it('sends alias, command and variables on services, null or empty when unset', () => {
    expect(payloadService({ name: 'postgres:16' })).toStrictEqual(gitlabService('postgres:16'));
    expect(
      payloadService({
        name: 'redis:7',
        alias: 'cache,kv',
        command: ['redis-server', '--save', ''],
        variables: [{ key: 'A', value: '1', expand: true }],
      }),
    ).toMatchObject({
      alias: 'cache,kv',
      command: ['redis-server', '--save', ''],
      variables: [{ key: 'A', value: '1', public: true, masked: false }],
    });
  });
});
