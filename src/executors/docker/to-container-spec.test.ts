import { describe, expect, it } from 'vitest';

import { executorJob, jobPayload } from '../../../test/kits/executors/job-fixture.js';
import { gitlabService } from '../../../test/kits/api/gitlab-images.js';
import { dockerConfigSchema, type DockerConfigInput } from './docker-config.js';
import {
  buildContainerSpec,
  cacheMount,
  configBinds,
  helperContainerSpec,
  jobLabels,
  jobNames,
  parseMemory,
  serviceAliases,
  serviceContainerSpec,
} from './to-container-spec.js';

function input(config: DockerConfigInput = {}) {
  const job = executorJob('/builds', jobPayload({ id: 42 }));
  return {
    job,
    config: dockerConfigSchema.parse(config),
    jobImage: 'busybox:latest',
    helperImage: 'flotilla-helper:0.1.0',
  };
}

describe('names and labels', () => {
  it('names every object of a job under one prefix', () => {
    const names = jobNames(input().job);
    expect(names.prefix).toBe('flotilla-abcdefghi-project-3-concurrent-0-job-42');
    expect(names.network).toBe(`${names.prefix}-network`);
    expect(names.cacheVolume).toBe('flotilla-abcdefghi-project-3-cache');
    expect(names.service(0, 'tutum/wordpress:latest')).toBe(`${names.prefix}-svc-0-tutum__wordpress`);
  });

  it.each([
    ['helper', true],
    ['network', true],
    ['cache-volume', false],
    ['project-volume', false],
  ] as const)('labels a %s (job id: %s)', (type, withJob) => {
    const labels = jobLabels(input().job, type);
    expect(labels).toMatchObject({
      'com.flotilla.managed': 'true',
      'com.flotilla.runner': 'abcdefghi',
      'com.flotilla.type': type,
    });
    expect('com.flotilla.job.id' in labels).toBe(withJob);
  });
});

describe('container bodies', () => {
  it.each([
    [{}, { Privileged: false }],
    [{ privileged: true }, { Privileged: true }],
    [
      { memory: '512m', cpus: '1.5', shm_size: 1024 },
      { Memory: 512 * 1024 ** 2, NanoCpus: 1_500_000_000, ShmSize: 1024 },
    ],
    [
      { dns: ['10.0.0.2'], extra_hosts: ['db:10.0.0.3'] },
      { Dns: ['10.0.0.2'], ExtraHosts: ['db:10.0.0.3'] },
    ],
    [{ network_mode: 'host' }, { NetworkMode: 'host' }],
  ] as [DockerConfigInput, Record<string, unknown>][])(
    'build container host config for %j',
    (config, expected) => {
      expect(buildContainerSpec(input(config), null, 'step_script', 1).HostConfig).toMatchObject(expected);
    },
  );

  it('feeds the script on stdin to the detected shell, with the image options', () => {
    const spec = buildContainerSpec(
      input(),
      { name: 'x', entrypoint: [''], executor_opts: { docker: { user: '1000', platform: 'linux/amd64' } } },
      'step_script',
      2,
    );
    expect(spec).toMatchObject({
      OpenStdin: true,
      StdinOnce: true,
      Tty: false,
      Entrypoint: [''],
      User: '1000',
      platform: 'linux/amd64',
      Image: 'busybox:latest',
    });
    expect(spec.Cmd?.[0]).toBe('sh');
    expect(spec.Cmd?.[2]).toContain('if [ -x /usr/local/bin/bash ]');
    expect(spec.HostConfig?.Binds?.[0]).toBe(
      'flotilla-abcdefghi-project-3-concurrent-0-job-42-builds:/builds',
    );
    expect(spec.Env).toBeUndefined();
  });

  it('mounts the builds volume and the project cache in the helper', () => {
    const spec = helperContainerSpec(input(), 1);
    expect(spec.Cmd).toEqual(['node', '/opt/flotilla/bin/flotilla-helper.js', 'serve']);
    // Stages are requests on its stdin, which must stay open across attaches; no engine log copy.
    expect(spec).toMatchObject({ OpenStdin: true, StdinOnce: false, AttachStdin: true, Tty: false });
    expect(spec.HostConfig?.LogConfig?.Type).toBe('none');
    expect(spec.HostConfig?.Binds).toEqual([
      'flotilla-abcdefghi-project-3-concurrent-0-job-42-builds:/builds',
      'flotilla-abcdefghi-project-3-cache:/cache',
    ]);
    expect(spec.HostConfig?.Privileged).toBeUndefined();
  });

  it.each([
    [{}, 'flotilla-abcdefghi-project-3-cache:/cache'],
    [{ cache_dir: '/srv/cache/' }, '/srv/cache/abcdefghi/project-3:/cache'],
    [{ disable_cache: true }, null],
  ] as [DockerConfigInput, string | null][])('cache mount for %j', (config, expected) => {
    expect(cacheMount(input(config))).toBe(expected);
  });

  it('turns "/path" volumes into per-project volumes and keeps binds', () => {
    const binds = configBinds(input({ volumes: ['/var/data', '/srv:/srv:ro'] }));
    expect(binds[0]).toMatch(/^flotilla-abcdefghi-project-3-volume-[0-9a-f]{8}:\/var\/data$/);
    expect(binds[1]).toBe('/srv:/srv:ro');
  });

  it("takes a service in GitLab's full shape, with null fields", () => {
    const service = gitlabService('postgres:16', { variables: null });
    const spec = serviceContainerSpec(input(), service, 0);
    expect(spec.Entrypoint).toBeUndefined();
    expect(spec.Cmd).toBeUndefined();
    expect(spec.Env).toEqual([]);
    expect(serviceAliases(service)).toEqual(['postgres']);
  });

  it('gives a service its aliases, derived names, public variables and its own variables', () => {
    const base = input();
    base.job.variables = [
      { key: 'PUBLIC', value: 'p', public: true, masked: false },
      { key: 'CI_JOB_TOKEN', value: 'secret', public: false, masked: true },
    ];
    const service = {
      name: 'registry.example.com:5000/group/pg:16',
      alias: 'db, pg',
      command: ['postgres'],
      variables: [{ key: 'POSTGRES_DB', value: 'test', public: true, masked: false }],
    };
    const spec = serviceContainerSpec(base, service, 0);
    expect(spec.Env).toEqual(['PUBLIC=p', 'POSTGRES_DB=test']);
    expect(spec.Cmd).toEqual(['postgres']);
    const network = 'flotilla-abcdefghi-project-3-concurrent-0-job-42-network';
    expect(spec.NetworkingConfig?.EndpointsConfig?.[network]?.Aliases).toEqual([
      'db',
      'pg',
      'registry.example.com__group__pg',
      'registry.example.com-group-pg',
    ]);
  });
});

describe('helpers', () => {
  it.each([
    ['postgres:16', ['postgres']],
    ['tutum/wordpress', ['tutum__wordpress', 'tutum-wordpress']],
    [
      '127.0.0.1:5000/flotilla-test/web:latest',
      ['127.0.0.1__flotilla-test__web', '127.0.0.1-flotilla-test-web'],
    ],
  ])('service %s is reachable as %j', (name, expected) => {
    expect(serviceAliases({ name })).toEqual(expected);
  });

  it.each([
    ['1024', 1024],
    ['512m', 512 * 1024 ** 2],
    ['2g', 2 * 1024 ** 3],
    ['1.5GB', 1.5 * 1024 ** 3],
  ])('parses memory %s', (text, bytes) => {
    expect(parseMemory(text)).toBe(bytes);
  });
});
