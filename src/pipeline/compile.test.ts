import { describe, expect, it } from 'vitest';

import { compilePipeline } from './compile.js';
import { compileOk, context, job, messages } from '../../test/kits/pipeline/compile-test-kit.js';

describe('stages and jobs', () => {
  it('uses the default stages with .pre and .post around them', async () => {
    const p = await compileOk('build:\n  script: echo\n');

    expect(p.stages).toEqual(['.pre', 'build', 'test', 'deploy', '.post']);
    expect(job(p, 'build')).toMatchObject({ stage: 'test', stageIndex: 2 });
  });

  it.each([
    ['stages: [a, b]', ['.pre', 'a', 'b', '.post']],
    ['stages: [.post, a, .pre]', ['.pre', 'a', '.post']],
  ])('normalises %s', async (line, expected) => {
    const p = await compileOk(`${line}\nj:\n  stage: a\n  script: x\n`);

    expect(p.stages).toEqual(expected);
  });

  it('skips hidden jobs and reserved keys', async () => {
    const p = await compileOk('.hidden:\n  script: x\nvariables: {A: 1}\nimage: ruby\nreal:\n  script: y\n');

    expect(p.jobs.map((j) => j.name)).toEqual(['real']);
    expect(job(p, 'real').image).toEqual({ name: 'ruby' });
  });

  it.each([
    ['.only: {script: x}\n', 'jobs config should contain at least one visible job'],
    [
      'j:\n  stage: nope\n  script: x\n',
      'jobs:j chosen stage nope does not exist; available stages are .pre, build, test, deploy, .post',
    ],
    ['j:\n  script: x\n  foo: 1\n  bar: 2\n', 'jobs:j config contains unknown keys: foo, bar'],
    ['j:\n  image: ruby\n', 'jobs:j config should implement the script:, run:, or trigger: keyword'],
    [
      'j:\n  script: {a: 1}\n',
      'jobs:j:script config should be a string or a nested array of strings up to 10 levels deep',
    ],
    [
      'j:\n  script: x\n  when: later\n',
      'jobs:j:when config should be one of: on_success, on_failure, always, manual, delayed, never',
    ],
    ['j:\n  script: x\n  timeout: soon\n', 'jobs:j:timeout config should be a duration'],
    [
      'j:\n  script: x\n  allow_failure: maybe\n',
      'jobs:j:allow_failure config should be a hash or a boolean value',
    ],
    ['j:\n  script: x\n  tags: {a: 1}\n', 'jobs:j:tags config should be an array of strings'],
    [
      'j:\n  script: x\n  variables: [a]\n',
      'jobs:j:variables config should be a hash of key value pairs, value can be a hash',
    ],
    ['j:\n  script: x\n  when: delayed\n', "jobs:j start in can't be blank"],
    ['j:\n  script: x\n  start_in: 1 hour\n', 'jobs:j start in must be blank'],
    [
      'j:\n  script: x\n  retry: 5\n',
      'jobs:j:retry config must be greater than or equal to 0 and less than or equal to 2',
    ],
    [
      'j:\n  script: x\n  artifacts: {when: sometimes}\n',
      'jobs:j:artifacts:when config should be one of: on_success, on_failure, always',
    ],
    [
      'j:\n  script: x\n  artifacts: {expire_in: whenever}\n',
      'jobs:j:artifacts:expire_in config should be a duration',
    ],
    [
      'j:\n  script: x\n  cache: {policy: sometimes}\n',
      'jobs:j:cache:policy config should be one of: pull, push, pull-push',
    ],
    [
      'j:\n  script: x\n  parallel: 0\n',
      'jobs:j:parallel config must be greater than or equal to 1 and less than or equal to 200',
    ],
    [
      'j:\n  script: x\n  id_tokens: {A: {aud: x}}\n',
      'jobs:j:id_tokens is not supported by this coordinator',
    ],
    ['j:\n  script: x\n  secrets: {A: {vault: x}}\n', 'jobs:j:secrets is not supported by this coordinator'],
    ['j:\n  script: x\n  coverage: "abc"\n', 'jobs:j:coverage config must be a regular expression'],
    [
      'j:\n  script: x\n  environment: {name: prod, action: explode}\n',
      'jobs:j:environment:action config should be start, prepare, stop, verify, access',
    ],
    [
      'j:\n  script: x\n  artifacts: {paths: [a], public: false, access: none}\n',
      'jobs:j:artifacts config cannot use both public and access: use access only',
    ],
    [
      'j:\n  script: x\n  artifacts: {paths: [a], access: nobody}\n',
      'jobs:j:artifacts:access config should be one of: all, developer, none',
    ],
    [
      'j:\n  script: x\n  environment: {name: prod, deployment_tier: live}\n',
      'jobs:j:environment:deployment_tier config should be production, staging, testing, development, other',
    ],
    [
      'j:\n  script: x\n  environment: {name: prod, auto_stop_in: soon}\n',
      'jobs:j:environment:auto_stop_in config should be a duration (e.g. 1 day) or never',
    ],
    [
      'j:\n  script: x\n  environment: {name: prod, on_stop: halt}\n',
      'j job: on_stop job halt is not defined',
    ],
    [
      'j:\n  script: x\n  environment: {name: prod, on_stop: halt}\nhalt:\n  script: x\n',
      'j job: on_stop job halt does not have environment defined',
    ],
    [
      'j:\n  script: x\n  environment: {name: prod, on_stop: halt}\nhalt:\n  script: x\n  environment: {name: dev, action: stop}\n',
      'j job: on_stop job halt have different environment name',
    ],
    [
      'j:\n  script: x\n  environment: {name: prod, on_stop: halt}\nhalt:\n  script: x\n  environment: prod\n',
      'j job: on_stop job halt needs to have action stop defined',
    ],
    ['j: [1]\n', 'jobs:j config should be a hash'],
    ['stages: build\nj:\n  script: x\n', 'stages config should be an array of strings'],
    ['default:\n  stage: x\nj:\n  script: x\n', 'default config contains unknown keys: stage'],
  ])('reports %j', async (yaml, message) => {
    expect(await messages(yaml)).toContain(message);
  });

  it('reports several errors together, each with its position', async () => {
    const result = await compilePipeline(
      'a:\n  script: x\n  when: later\nb:\n  script: x\n  timeout: soon\n',
      context,
    );

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.path, e.position?.line, e.position?.column])).toEqual([
      ['jobs:a:when', 3, 3],
      ['jobs:b:timeout', 6, 3],
    ]);
  });
});

describe('job keywords', () => {
  it('flattens nested scripts and lets job scripts override defaults', async () => {
    const p = await compileOk(
      'before_script: [global]\ndefault:\n  after_script: [after]\nj:\n  before_script: [mine]\n  script: [a, [b, [c]]]\n',
    );

    expect(job(p, 'j')).toMatchObject({
      beforeScript: ['mine'],
      script: ['a', 'b', 'c'],
      afterScript: ['after'],
    });
  });

  it.each([
    ['when: manual', { when: 'manual', allowFailure: true }],
    ['when: manual\n  allow_failure: false', { when: 'manual', allowFailure: false }],
    ['allow_failure: {exit_codes: 3}', { allowFailure: false, allowFailureExitCodes: [3] }],
    ['allow_failure: {exit_codes: [1, 2]}', { allowFailureExitCodes: [1, 2] }],
    ['when: delayed\n  start_in: 30 minutes', { when: 'delayed', startInSeconds: 1800 }],
    ['timeout: 1h 30m', { timeoutSeconds: 5400 }],
    ['tags: [docker, linux]', { tags: ['docker', 'linux'] }],
    ['interruptible: true', { interruptible: true }],
    ['resource_group: prod', { resourceGroup: 'prod' }],
    ["coverage: '/Total: (\\d+)%/'", { coverageRegex: 'Total: (\\d+)%' }],
    [
      'environment: review',
      {
        environment: {
          name: 'review',
          url: null,
          action: 'start',
          deploymentTier: null,
          onStop: null,
          autoStopInSeconds: null,
        },
      },
    ],
    [
      'environment: {name: prod, url: "https://x", action: stop, deployment_tier: staging, auto_stop_in: 1 day}',
      {
        environment: {
          name: 'prod',
          url: 'https://x',
          action: 'stop',
          deploymentTier: 'staging',
          onStop: null,
          autoStopInSeconds: 86400,
        },
      },
    ],
    [
      'environment: {name: prod, auto_stop_in: never}',
      { environment: expect.objectContaining({ autoStopInSeconds: null }) },
    ],
    ['retry: 2', { retry: { max: 2, when: ['always'], exitCodes: [] } }],
    [
      'retry: {max: 1, when: script_failure, exit_codes: 137}',
      { retry: { max: 1, when: ['script_failure'], exitCodes: [137] } },
    ],
    ['hooks: {pre_get_sources_script: [a, [b]]}', { preGetSourcesScript: ['a', 'b'] }],
    ['dependencies: []', { dependencies: [] }],
    ['needs: []', { needs: [] }],
  ])('parses %s', async (line, expected) => {
    const p = await compileOk(`j:\n  script: x\n  ${line}\n`);

    expect(job(p, 'j')).toMatchObject(expected);
  });

  it('parses variables in both forms, values as strings', async () => {
    const p = await compileOk(
      'variables:\n  G: {value: "1", description: d, options: ["1", "2"]}\nj:\n  script: x\n  variables:\n    N: 5\n    B: true\n    R: {value: $X, expand: false}\n    E:\n',
    );

    expect(p.variables).toEqual([{ key: 'G', value: '1', expand: true }]);
    expect(job(p, 'j').variables).toEqual([
      { key: 'N', value: '5', expand: true },
      { key: 'B', value: 'true', expand: true },
      { key: 'R', value: '$X', expand: false },
      { key: 'E', value: '', expand: true },
    ]);
  });

  it('parses artifacts, cache, image and services', async () => {
    const p = await compileOk(`j:
  script: x
  image: {name: "node:20", entrypoint: [""], docker: {user: ci, platform: arm64}, pull_policy: [always]}
  services: [postgres, {name: redis, alias: cache, command: [redis-server], variables: {A: 1}}]
  artifacts: {paths: [dist], exclude: [dist/*.map], name: out, untracked: true, when: always, expire_in: 1 week, reports: {junit: report.xml}}
  cache: [{key: {files: [package-lock.json], prefix: npm}, paths: [.npm], policy: pull}, {paths: [x]}]
`);
    const j = job(p, 'j');

    expect(j.image).toEqual({
      name: 'node:20',
      entrypoint: [''],
      pullPolicy: ['always'],
      docker: { user: 'ci', platform: 'arm64' },
    });
    expect(j.services).toEqual([
      { name: 'postgres' },
      {
        name: 'redis',
        alias: 'cache',
        command: ['redis-server'],
        variables: [{ key: 'A', value: '1', expand: true }],
      },
    ]);
    expect(j.artifacts).toEqual({
      name: 'out',
      paths: ['dist'],
      exclude: ['dist/*.map'],
      untracked: true,
      when: 'always',
      expireIn: '1 week',
      reports: { junit: ['report.xml'] },
      access: 'all',
    });
    expect(j.cache).toEqual([
      {
        key: 'default',
        keyFiles: ['package-lock.json'],
        keyPrefix: 'npm',
        paths: ['.npm'],
        untracked: false,
        policy: 'pull',
        when: 'on_success',
        fallbackKeys: [],
        unprotect: false,
      },
      {
        key: 'default',
        paths: ['x'],
        untracked: false,
        policy: 'pull-push',
        when: 'on_success',
        fallbackKeys: [],
        unprotect: false,
      },
    ]);
  });

  it.each([
    ['{paths: [a]}', 'all'],
    ['{paths: [a], public: false}', 'developer'],
    ['{paths: [a], public: true}', 'all'],
    ['{paths: [a], access: none}', 'none'],
  ])('reads artifacts %s as access %s', async (artifacts, access) => {
    const p = await compileOk(`j:\n  script: x\n  artifacts: ${artifacts}\n`);
    expect(job(p, 'j').artifacts?.access).toBe(access);
  });

  it('reads cache:unprotect, and warns that artifacts:expose_as has no effect', async () => {
    const p = await compileOk(
      'j:\n  script: x\n  cache: {paths: [a], unprotect: true}\n  artifacts: {paths: [a], expose_as: out}\n',
    );
    expect(job(p, 'j').cache[0]?.unprotect).toBe(true);
    expect(p.warnings).toEqual([
      'jobs:j:artifacts:expose_as has no effect here: there are no merge request pages to show it on',
    ]);
  });

  it('drops when: never jobs', async () => {
    const p = await compileOk('a:\n  script: x\nb:\n  script: x\n  when: never\n');

    expect(p.jobs.map((j) => j.name)).toEqual(['a']);
  });
});
