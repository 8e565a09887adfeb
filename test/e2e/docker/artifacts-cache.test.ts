import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { JobPayload } from '../../../src/api/runner-api.js';
import { startArtifactServer, type ArtifactServer } from './artifact-server.js';
import { dockerEnv, dockerFactory, dockerPayload, jobObjects, runDockerJob } from './harness.js';

const NETWORK = 'flotilla-e2e-artifacts';
const GATEWAY = '10.78.0.1';
let docker: Docker;
let server: ArtifactServer;
let work: string;
let sha: string;
const projectA = 7000 + Math.floor(Math.random() * 1000);

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@e',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@e',
    },
  }).trim();
}

beforeAll(async () => {
  docker = dockerEnv();
  await docker
    .getNetwork(NETWORK)
    .remove()
    .catch(() => undefined);
  await docker.createNetwork({
    Name: NETWORK,
    IPAM: { Config: [{ Subnet: '10.78.0.0/24', Gateway: GATEWAY }] },
    Labels: { 'com.flotilla.e2e': 'true' },
  });
  work = await mkdtemp(path.join(tmpdir(), 'flotilla-docker-e2e-'));
  const src = path.join(work, 'src');
  git(work, 'init', '-q', '-b', 'main', src);
  await writeFile(path.join(src, 'hello.txt'), 'hello from git\n');
  git(src, 'add', '.');
  git(src, 'commit', '-q', '-m', 'first');
  sha = git(src, 'rev-parse', 'HEAD');
  git(work, 'clone', '-q', '--bare', src, path.join(work, 'repo.git'));
  git(path.join(work, 'repo.git'), 'update-server-info');
  server = await startArtifactServer(GATEWAY, path.join(work, 'repo.git'));
});

afterAll(async () => {
  for (const p of [projectA, projectA + 1, projectA + 2]) {
    await docker
      ?.getVolume(`flotilla-e2edocker-project-${p}-cache`)
      .remove()
      .catch(() => undefined);
  }
  await server?.close();
  await docker
    ?.getNetwork(NETWORK)
    .remove()
    .catch(() => undefined);
  if (work) await rm(work, { recursive: true, force: true });
});

function projectPayload(
  projectId: number,
  script: string[],
  overrides: Partial<JobPayload>,
  variables: Record<string, string> = {},
): JobPayload {
  const base = dockerPayload(script, overrides, variables);
  return { ...base, job_info: { ...base.job_info, project_id: projectId } };
}

const cacheSpec = (
  key: string,
  policy: 'pull' | 'push' | 'pull-push',
  fallback: string[] = [],
  when: 'on_success' | 'on_failure' | 'always' = 'on_success',
) => ({ key, untracked: false, paths: ['vendor/'], policy, when, fallback_keys: fallback });

describe('docker executor: sources, artifacts and cache through the helper', () => {
  it('fetches sources, passes artifacts and the cache between jobs of one project only', async () => {
    const factory = dockerFactory({ pull_policy: 'if-not-present', network_mode: NETWORK });
    const build = projectPayload(
      projectA,
      ['cat hello.txt', 'mkdir -p out vendor', 'echo built > out/result.txt', 'echo dep > vendor/dep.txt'],
      {
        git_info: {
          ...dockerPayload([]).git_info,
          repo_url: `${server.url}/repo.git`,
          sha,
          ref: 'main',
          depth: 0,
          refspecs: [],
        },
        artifacts: [
          {
            name: 'artifacts',
            untracked: false,
            paths: ['out/'],
            exclude: [],
            when: 'on_success',
            expire_in: null,
            artifact_type: 'archive',
            artifact_format: 'zip',
          },
        ],
        cache: [cacheSpec('deps', 'pull-push')],
      },
      { GIT_STRATEGY: 'fetch' },
    );
    const first = await runDockerJob(factory, build, { url: server.url });
    expect(first.outcome.state, first.log).toBe('success');
    expect(first.log).toContain('hello from git');
    expect(first.log).toContain('Created cache');
    expect(server.artifacts.has(build.id)).toBe(true);

    const dependency = {
      id: build.id,
      name: 'build',
      token: build.token,
      artifacts_file: { filename: 'artifacts.zip', size: 1 },
    };
    const test = projectPayload(projectA, ['cat out/result.txt', 'cat vendor/dep.txt'], {
      dependencies: [dependency],
      cache: [cacheSpec('deps', 'pull')],
    });
    const second = await runDockerJob(factory, test, { url: server.url });
    expect(second.outcome.state, second.log).toBe('success');
    expect(second.log).toContain('\nbuilt\n');
    expect(second.log).toContain('\ndep\n');
    expect(second.log).toContain('Not uploading cache deps due to policy');

    const fallback = projectPayload(projectA, ['cat vendor/dep.txt'], {
      cache: [cacheSpec('missing-key', 'pull', ['deps'])],
    });
    const third = await runDockerJob(factory, fallback, { url: server.url });
    expect(third.outcome.state, third.log).toBe('success');
    expect(third.log).toContain('Checking cache for deps...');

    const other = projectPayload(
      projectA + 1,
      ['test ! -e vendor/dep.txt', 'echo no cache from another project'],
      { cache: [cacheSpec('deps', 'pull')] },
    );
    const fourth = await runDockerJob(factory, other, { url: server.url });
    expect(fourth.outcome.state, fourth.log).toBe('success');
    expect(fourth.log).toContain('deps/cache.zip: file does not exist');
    for (const p of [build, test, fallback, other]) expect(await jobObjects(docker, p.id)).toEqual([]);
  });

  it('a failed job uploads its on_failure artifacts and saves its on_failure cache', async () => {
    const factory = dockerFactory({ pull_policy: 'if-not-present', network_mode: NETWORK });
    const artifacts = (name: string, paths: string[], when: 'on_success' | 'on_failure') => ({
      name,
      untracked: false,
      paths,
      exclude: [],
      when,
      expire_in: null,
      artifact_type: 'archive',
      artifact_format: 'zip' as const,
    });
    const failing = projectPayload(
      projectA + 2,
      ['mkdir -p out vendor', 'echo report > out/report.txt', 'echo dep > vendor/dep.txt', 'exit 3'],
      {
        artifacts: [artifacts('debug', ['out/'], 'on_failure')],
        cache: [cacheSpec('failed-deps', 'pull-push', [], 'on_failure')],
      },
    );
    const run = await runDockerJob(factory, failing, { url: server.url });
    expect(run.outcome.state, run.log).toBe('failed');
    expect(run.log).toContain('Saving cache for failed job');
    expect(run.log).toContain('Created cache');
    expect(run.log).toContain('Uploading artifacts for failed job');
    expect(server.artifacts.has(failing.id)).toBe(true);

    const next = projectPayload(projectA + 2, ['cat vendor/dep.txt'], {
      cache: [cacheSpec('failed-deps', 'pull')],
    });
    const reader = await runDockerJob(factory, next, { url: server.url });
    expect(reader.outcome.state, reader.log).toBe('success');
    expect(reader.log).toContain('\ndep\n');
  });

  it('fails the job when a dependency has no artifacts', async () => {
    const factory = dockerFactory({ pull_policy: 'if-not-present', network_mode: NETWORK });
    const dependency = {
      id: 1,
      name: 'gone',
      token: 'glcbt-other',
      artifacts_file: { filename: 'artifacts.zip', size: 1 },
    };
    const run = await runDockerJob(
      factory,
      dockerPayload(['echo unreachable'], { dependencies: [dependency] }),
      { url: server.url },
    );
    expect(run.outcome.state).toBe('failed');
    expect(run.log).toContain('responseStatus=404');
  });
});
