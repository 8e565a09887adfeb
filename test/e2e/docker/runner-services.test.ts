/**
 * A registered docker runner (`flotilla runner run`, executor docker) beside a coordinator on
 * loopback: a job with two services reached by alias on its per-job network, sources fetched and
 * artifacts passed through the coordinator (forwarded on the job network's gateway).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { cleanupRunner } from '../../../src/executors/docker/cleanup.js';
import { shortToken } from '../../../src/runner/version.js';

import { createWorkRepo, pushTo } from '../../../harness/git-repo.js';
import {
  FlotillaProcess,
  startCoordinatorProcess,
  type CoordinatorProcess,
} from '../../helpers/processes.js';
import { tempDir } from '../../../harness/temp-dir.js';
import { dockerEnv } from './harness.js';

let docker: Docker;

let tmp: { dir: string; remove: () => Promise<void> };
let coordinator: CoordinatorProcess | null = null;
let runner: FlotillaProcess | null = null;
let runnerToken: string | null = null;

beforeAll(async () => {
  docker = dockerEnv();
  tmp = await tempDir('flotilla-runner-docker-');
  coordinator = await startCoordinatorProcess(path.join(tmp.dir, 'coordinator'));
});

afterAll(async () => {
  await runner?.stop();
  // The runner keeps per-project cache volumes (as gitlab-runner does): the test removes them.
  if (runnerToken) await cleanupRunner(docker, shortToken(runnerToken));
  await coordinator?.proc.stop();
  await tmp.remove();
});

const PIPELINE = `stages: [build, test]
build:
  stage: build
  script:
    - mkdir -p out && cat message.txt > out/msg.txt
  artifacts:
    paths: [out/]
services-by-alias:
  stage: test
  services:
    - name: flotilla-test/web:latest
      alias: web
    - name: flotilla-test/web:latest
      alias: api
  script:
    - cat out/msg.txt
    - wget -qO- http://web/ | sed 's/^/web says /'
    - wget -qO- http://api/ | sed 's/^/api says /'
    - echo "server $CI_SERVER_URL"
`;

describe('registered docker runner', () => {
  it('runs a job with two services reached by alias, sources and artifacts from the coordinator', async () => {
    const { api, url } = coordinator!;
    const created = await api.createRunner({ description: 'docker e2e' });
    runnerToken = created.token;
    const configPath = path.join(tmp.dir, 'config.toml');
    await writeFile(
      configPath,
      [
        'concurrent = 2',
        'check_interval = 1',
        'log_format = "json"',
        '[[runners]]',
        '  name = "docker-e2e"',
        `  url = "${url}"`,
        `  token = "${created.token}"`,
        '  executor = "docker"',
        `  builds_dir = "${path.join(tmp.dir, 'builds')}"`,
        '  [runners.docker]',
        '    image = "busybox:latest"',
        '    pull_policy = ["if-not-present"]',
        '',
      ].join('\n'),
    );
    runner = new FlotillaProcess(['runner', 'run', '--config', configPath]);
    const project = await api.createProject('docker-services');
    const repo = await createWorkRepo(path.join(tmp.dir, 'repo'), {
      '.gitlab-ci.yml': PIPELINE,
      'message.txt': 'fetched-from-the-coordinator\n',
    });
    await pushTo(repo, url, project.path_with_namespace, api.token);
    const pipeline = await api.waitForPipeline(project.id);
    const done = await api.waitForPipelineStatus(project.id, pipeline.id, ['success', 'failed', 'canceled']);
    const jobs = await api.jobs(project.id, pipeline.id);
    const traces = await Promise.all(
      jobs.map(async (j: { id: number; name: string }) => ({
        name: j.name,
        text: (await api.get(`/projects/${project.id}/jobs/${j.id}/trace`)).text,
      })),
    );
    const log = traces.map((t) => `--- ${t.name}\n${t.text}`).join('\n');
    expect(done.status, log + runner.output.slice(-3000)).toBe('success');
    const job = traces.find((t) => t.name === 'services-by-alias')?.text ?? '';
    expect(job).toContain('fetched-from-the-coordinator');
    expect(job).toContain('Downloading artifacts from coordinator... ok');
    expect(job).toContain('web says hello from the web service');
    expect(job).toContain('api says hello from the web service');
    expect(job).toMatch(/Forwarding the coordinator to the job network at [\d.]+:\d+ \(from the runner\)/);
    expect(job).toMatch(/server http:\/\/[\d.]+:\d+/);
    expect(job).not.toContain(`server ${url}`);
  });
});
