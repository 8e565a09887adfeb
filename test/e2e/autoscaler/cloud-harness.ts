/**
 * Harness of the cloud providers' end-to-end tests: a cloud emulator in the test process boots real
 * `local`-style machines (network namespace + Docker Engine) for the instances it creates, and a
 * real coordinator and `flotilla runner run` process (docker-autoscaler with that cloud's provider,
 * pointed at the emulator) run a pushed pipeline of three jobs on them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, expect } from 'vitest';

import { TestApi } from '../../../harness/api-client.js';
import { createWorkRepo, pushTo } from '../../../harness/git-repo.js';
import { netnsMachineHost, type MachineHost } from '../../emulators/machine-host.js';
import { FlotillaProcess } from '../../helpers/processes.js';
import { VERSION } from '../docker/harness.js';
import { destroyGroup, eventually, hostAddress, localConfig, namespaces, requireTools } from './harness.js';

/** Three stages, one job each; every job fetches the repository from the coordinator. */
export const THREE_JOBS = `stages: [build, test, deploy]
build:
  stage: build
  script: [echo "build on $(hostname)", cat README]
test:
  stage: test
  script: [echo "test on $(hostname)", cat README]
deploy:
  stage: deploy
  script: [echo "deploy on $(hostname)", cat README]
`;

export interface PipelineRun {
  status: string;
  logs: string[];
  runnerOutput: string;
}

export interface CloudRunner {
  run(ci: string): Promise<PipelineRun>;
  stop(): Promise<void>;
}

/** The runner's config.toml with `autoscaler` as the `[runners.autoscaler]` table's body. */
function runnerToml(o: {
  url: string;
  token: string;
  dir: string;
  machines: string;
  autoscaler: string;
}): string {
  return `concurrent = 2
check_interval = 1
log_level = "debug"
log_format = "json"

[[runners]]
  name = "${o.machines}"
  url = "${o.url}"
  token = "${o.token}"
  executor = "docker-autoscaler"
  builds_dir = "${path.join(o.dir, 'builds')}"
  [runners.docker]
    image = "busybox:latest"
    network_mode = "host"
    pull_policy = ["if-not-present"]
    helper_image = "${hostAddress(o.machines)}:5000/flotilla-helper:${VERSION}"
  [runners.autoscaler]
    capacity_per_instance = 1
    max_use_count = 1
    max_instances = 2
    update_interval = "5s"
    update_interval_when_expecting = "1s"
    instance_ready_timeout = "120s"
    deletion_retry_interval = "2s"
${o.autoscaler}
    [[runners.autoscaler.policy]]
      idle_count = 0
      idle_time = "1s"
`;
}

/**
 * Starts a coordinator listening where the machines reach it (the host side of `machines`' subnet)
 * and a runner manager with the given autoscaler table.
 */
export async function startCloudRunner(o: {
  dir: string;
  /** The machine host's local group (its subnet's host side serves the coordinator and the mirror). */
  machines: string;
  autoscaler: string;
}): Promise<CloudRunner> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const url = `http://${hostAddress(o.machines)}:${port}`;
  const coordinator = new FlotillaProcess([
    'coordinator',
    '--listen',
    `0.0.0.0:${port}`,
    '--data-dir',
    path.join(o.dir, 'c'),
    '--external-url',
    url,
  ]);
  await coordinator.waitFor(/listening on/);
  const rootToken = (await readFile(path.join(o.dir, 'c', 'root-token'), 'utf8')).trim();
  const api = new TestApi(`http://127.0.0.1:${port}`, rootToken);
  const created = await api.createRunner({ description: 'cloud' });
  const configPath = path.join(o.dir, 'config.toml');
  await writeFile(configPath, runnerToml({ url, token: created.token, ...o }));
  const runner = new FlotillaProcess(['runner', 'run', '--config', configPath]);
  await runner.waitFor(/runner manager started/);
  let n = 0;
  return {
    async run(ci) {
      const project = await api.createProject(`cloud${++n}`);
      const work = path.join(o.dir, `work${n}`);
      await createWorkRepo(work, { '.gitlab-ci.yml': ci, README: 'fetched-from-coordinator\n' });
      await pushTo(work, `http://127.0.0.1:${port}`, project.path_with_namespace, api.token);
      const pipeline = await api.waitForPipeline(project.id);
      const done = await api.waitForPipelineStatus(project.id, pipeline.id, [
        'success',
        'failed',
        'canceled',
      ]);
      const jobs = await api.jobs(project.id, pipeline.id);
      const logs: string[] = [];
      for (const job of jobs) logs.push((await api.get(`/projects/${project.id}/jobs/${job.id}/trace`)).text);
      return { status: String(done.status), logs, runnerOutput: runner.output };
    },
    async stop() {
      await runner.stop();
      await coordinator.stop();
    },
  };
}

/**
 * Runs THREE_JOBS and checks what every provider's test checks: the pipeline succeeds, each job
 * fetched from the coordinator on a machine of group `group`, then the cloud (`left`: instances
 * the emulator still holds) and the host (`machines`' namespaces) are left with nothing.
 */
export async function runThreeJobsAndDrain(
  runner: CloudRunner,
  o: { group: string; machines: string; what: string; left: () => number },
): Promise<PipelineRun> {
  const run = await runner.run(THREE_JOBS);
  expect(run.status, `${run.logs.join('\n')}\n${run.runnerOutput.slice(-4000)}`).toBe('success');
  for (const log of run.logs) {
    expect(log).toContain('fetched-from-coordinator');
    expect(log).toMatch(new RegExp(`Running on machine flotilla-${o.group}-[0-9a-f]{8}`));
  }
  await eventually(`every ${o.what} through the API`, 120, () => o.left() === 0);
  await eventually(
    'every machine gone from the host',
    60,
    async () => (await namespaces(o.machines)).length === 0,
  );
  return run;
}

/** What a cloud provider's end-to-end file holds: the machine host, its emulator and the runner. */
export interface CloudTestBed<E> {
  /** The emulator, once `beforeAll` has run. */
  emulator(): E;
  /** Hands over the started runner, so that `afterAll` stops it first. */
  setRunner(runner: CloudRunner): void;
}

/**
 * Registers the file's `beforeAll`/`afterAll`: a netns machine host for `machines` under `dir`, the
 * emulator `start` makes on it, and at the end the runner stopped, the emulator and host closed,
 * the group destroyed and no namespace of it left.
 */
export function cloudTestBed<E extends { close(): Promise<void> }>(
  machines: string,
  dir: string,
  start: (host: MachineHost) => Promise<E>,
): CloudTestBed<E> {
  let host: MachineHost | undefined;
  let emu: E | undefined;
  let runner: CloudRunner | undefined;
  beforeAll(async () => {
    requireTools();
    host = await netnsMachineHost(localConfig(machines, path.join(dir, 'host')));
    emu = await start(host);
  });
  afterAll(async () => {
    await runner?.stop();
    await emu?.close();
    await host?.close();
    await destroyGroup(machines, path.join(dir, 'host'));
    expect(await namespaces(machines)).toEqual([]);
  });
  return {
    emulator: () => {
      if (!emu) throw new Error('the emulator is not started');
      return emu;
    },
    setRunner: (r) => {
      runner = r;
    },
  };
}
