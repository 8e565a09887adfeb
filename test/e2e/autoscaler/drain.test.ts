/**
 * SIGQUIT with autoscaled machines: a real `flotilla runner run` (docker-autoscaler, `local`
 * machines) gets SIGQUIT while its job runs; the job finishes and is reported a success, then the
 * machine is removed (`delete_instances_on_shutdown = true`) or kept in the state file (false) and
 * adopted by the next manager, which runs its next job on it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FleetState } from '../../../src/autoscaler/state-store.js';
import { TestApi } from '../../../harness/api-client.js';
import { createWorkRepo, pushTo } from '../../../harness/git-repo.js';
import { FlotillaProcess } from '../../helpers/processes.js';
import { tempDir } from '../../../harness/temp-dir.js';
import { VERSION } from '../docker/harness.js';
import {
  destroyGroup,
  eventually,
  hostAddress,
  namespaces,
  requireTools,
  RUN_DIR,
  subnetFor,
} from './harness.js';

const GROUP = 'e2edr';
let tmp: { dir: string; remove: () => Promise<void> };
let coordinator: FlotillaProcess | undefined;
let runner: FlotillaProcess | undefined;
let api: TestApi;
let external = '';
let token = '';
let pushes = 0;

function runnerToml(deleteOnShutdown: boolean): string {
  const dir = tmp.dir;
  return `concurrent = 1
check_interval = 1
log_level = "info"
log_format = "json"

[[runners]]
  name = "${GROUP}"
  url = "${external}"
  token = "${token}"
  executor = "docker-autoscaler"
  builds_dir = "${path.join(dir, 'builds')}"
  [runners.docker]
    image = "busybox:latest"
    network_mode = "host"
    pull_policy = ["if-not-present"]
    helper_image = "${hostAddress(GROUP)}:5000/flotilla-helper:${VERSION}"
  [runners.autoscaler]
    plugin = "local"
    capacity_per_instance = 1
    max_use_count = 0
    max_instances = 1
    delete_instances_on_shutdown = ${deleteOnShutdown}
    update_interval = "5s"
    update_interval_when_expecting = "1s"
    instance_ready_timeout = "90s"
    deletion_retry_interval = "2s"
    [runners.autoscaler.plugin_config]
      name = "${GROUP}"
      subnet = "${subnetFor(GROUP)}"
      registry_mirrors = ["http://127.0.0.1:5000"]
      state_dir = "${path.join(dir, 'machines')}"
      run_dir = "${RUN_DIR}"
    [[runners.autoscaler.policy]]
      idle_count = 0
      idle_time = "30m"
`;
}

async function startRunner(deleteOnShutdown: boolean): Promise<FlotillaProcess> {
  const configPath = path.join(tmp.dir, 'config.toml');
  await writeFile(configPath, runnerToml(deleteOnShutdown));
  const proc = new FlotillaProcess(['runner', 'run', '--config', configPath]);
  await proc.waitFor(/runner manager started/);
  return proc;
}

/** Pushes a project whose one job runs `script`; resolves its ids. */
async function pushJob(script: string[]): Promise<{ projectId: number; pipelineId: number }> {
  const name = `drain-${++pushes}`;
  const project = await api.createProject(name);
  const work = path.join(tmp.dir, name);
  await createWorkRepo(work, { '.gitlab-ci.yml': `work:\n  script: ${JSON.stringify(script)}\n` });
  await pushTo(work, api.baseUrl, project.path_with_namespace, api.token);
  const pipeline = await api.waitForPipeline(project.id);
  return { projectId: project.id, pipelineId: pipeline.id };
}

async function jobAndTrace(p: { projectId: number; pipelineId: number }): Promise<{ job: any; log: string }> {
  const [job] = await api.jobs(p.projectId, p.pipelineId);
  const log = (await api.get(`/projects/${p.projectId}/jobs/${job.id}/trace`)).text as string;
  return { job, log };
}

/** Pushes a sleeping job, waits until its script runs, sends SIGQUIT; resolves after the exit. */
async function drainMidJob(proc: FlotillaProcess): Promise<{ code: number | null; job: any; log: string }> {
  const p = await pushJob(['echo begin', 'sleep 6', 'echo drained-ok']);
  await api.until(async () => (await jobAndTrace(p)).log.includes('begin'), 'the job to start its script');
  proc.signal('SIGQUIT');
  await proc.waitFor(/stopping gracefully/);
  const code = await proc.exited;
  return { code, ...(await jobAndTrace(p)) };
}

beforeAll(async () => {
  requireTools();
  tmp = await tempDir('flotilla-as-drain-');
  const port = 20000 + Math.floor(Math.random() * 20000);
  external = `http://${hostAddress(GROUP)}:${port}`;
  coordinator = new FlotillaProcess([
    'coordinator',
    '--listen',
    `0.0.0.0:${port}`,
    '--data-dir',
    path.join(tmp.dir, 'c'),
    '--external-url',
    external,
  ]);
  await coordinator.waitFor(/listening on/);
  const rootToken = (await readFile(path.join(tmp.dir, 'c', 'root-token'), 'utf8')).trim();
  api = new TestApi(`http://127.0.0.1:${port}`, rootToken);
  token = (await api.createRunner({ description: 'drained' })).token;
});

afterAll(async () => {
  await runner?.stop();
  await coordinator?.stop();
  await destroyGroup(GROUP, tmp.dir);
  expect(await namespaces(GROUP)).toEqual([]);
  await tmp.remove();
});

describe('SIGQUIT drains jobs on autoscaled machines', () => {
  it('delete_instances_on_shutdown = true: the job finishes, then the machine is removed', async () => {
    runner = await startRunner(true);
    const { code, job, log } = await drainMidJob(runner);
    expect(code, runner.output.slice(-4000)).toBe(0);
    expect(job.status, log).toBe('success');
    expect(log).toContain('drained-ok');
    expect(log).toMatch(/Running on machine flotilla-e2edr-\d+/);
    expect(await namespaces(GROUP)).toEqual([]);
    expect(runner.output).toMatch(/"reason":"manager shutdown".*"msg":"removing machine"/);
  });

  it('delete_instances_on_shutdown = false: the machine is kept and the next manager adopts it', async () => {
    runner = await startRunner(false);
    const { code, job, log } = await drainMidJob(runner);
    expect(code, runner.output.slice(-4000)).toBe(0);
    expect(job.status, log).toBe('success');
    expect(log).toContain('drained-ok');
    const machine = /Running on machine (flotilla-e2edr-\d+)/.exec(log)?.[1];
    expect(await namespaces(GROUP)).toEqual([machine]);
    const statePath = path.join(tmp.dir, '.flotilla', `autoscaler-${GROUP}.json`);
    const state = JSON.parse(await readFile(statePath, 'utf8')) as FleetState;
    expect(state.machines.map((m) => [m.key, m.busy])).toEqual([[`local/${machine}`, 0]]);

    runner = await startRunner(true);
    await runner.waitFor(/"msg":"adopting machine"/);
    const next = await pushJob(['echo on the adopted machine']);
    await api.waitForPipelineStatus(next.projectId, next.pipelineId, ['success', 'failed', 'canceled']);
    const adopted = await jobAndTrace(next);
    expect(adopted.job.status, adopted.log).toBe('success');
    expect(adopted.log).toContain(`Running on machine ${machine} `);
    runner.signal('SIGQUIT');
    expect(await runner.exited).toBe(0);
    await eventually('no machines left', 20, async () => (await namespaces(GROUP)).length === 0);
  });
});
