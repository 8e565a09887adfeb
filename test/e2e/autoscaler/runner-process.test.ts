/**
 * The whole path with autoscaled machines: a pushed pipeline's job is taken by a real
 * `flotilla runner run` process with `executor = "docker-autoscaler"`, which creates a `local`
 * machine (network namespace + its own Docker Engine), runs the job there in containers pulled
 * through the registry mirror, and removes the machine after the job (`max_use_count = 1`).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listNamespaces } from '../../../src/autoscaler/providers/local/netns.js';
import { TestApi } from '../../../harness/api-client.js';
import { createWorkRepo, pushTo } from '../../../harness/git-repo.js';
import { FlotillaProcess } from '../../helpers/processes.js';
import { tempDir } from '../../../harness/temp-dir.js';
import { VERSION } from '../docker/harness.js';
import { destroyGroup, eventually, hostAddress, RUN_DIR, subnetFor } from './harness.js';

const GROUP = 'e2epro';
let tmp: { dir: string; remove: () => Promise<void> };
let coordinator: FlotillaProcess | undefined;
let runner: FlotillaProcess | undefined;

function runnerToml(url: string, token: string, dir: string): string {
  const host = hostAddress(GROUP);
  return `concurrent = 2
check_interval = 1
log_level = "debug"
log_format = "json"

[[runners]]
  name = "${GROUP}"
  url = "${url}"
  token = "${token}"
  executor = "docker-autoscaler"
  builds_dir = "${path.join(dir, 'builds')}"
  [runners.docker]
    image = "busybox:latest"
    network_mode = "host"
    pull_policy = ["if-not-present"]
    helper_image = "${host}:5000/flotilla-helper:${VERSION}"
  [runners.autoscaler]
    plugin = "local"
    capacity_per_instance = 1
    max_use_count = 1
    max_instances = 1
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
      idle_time = "1s"
`;
}

beforeAll(async () => {
  tmp = await tempDir('flotilla-as-proc-');
});

afterAll(async () => {
  await runner?.stop();
  await coordinator?.stop();
  await destroyGroup(GROUP, path.join(tmp.dir, 'group'));
  await tmp.remove();
});

describe('docker-autoscaler through a runner process', () => {
  it('runs a pushed job on a fresh machine and removes the machine afterwards', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const external = `http://${hostAddress(GROUP)}:${port}`;
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
    const { readFile } = await import('node:fs/promises');
    const api = new TestApi(
      `http://127.0.0.1:${port}`,
      (await readFile(path.join(tmp.dir, 'c', 'root-token'), 'utf8')).trim(),
    );
    const created = await api.createRunner({ description: 'autoscaled' });
    const configPath = path.join(tmp.dir, 'config.toml');
    await writeFile(configPath, runnerToml(external, created.token, tmp.dir));
    runner = new FlotillaProcess(['runner', 'run', '--config', configPath]);
    await runner.waitFor(/runner manager started/);

    const project = await api.createProject('autoscaled');
    const work = path.join(tmp.dir, 'work');
    await createWorkRepo(work, {
      '.gitlab-ci.yml': 'onmachine:\n  script: [echo "ran on $(hostname)", cat README]\n',
      README: 'fetched-from-coordinator\n',
    });
    await pushTo(work, `http://127.0.0.1:${port}`, project.path_with_namespace, api.token);
    const pipeline = await api.waitForPipeline(project.id);
    const done = await api.waitForPipelineStatus(project.id, pipeline.id, ['success', 'failed', 'canceled']);
    const [job] = await api.jobs(project.id, pipeline.id);
    const log = (await api.get(`/projects/${project.id}/jobs/${job.id}/trace`)).text;
    expect(done.status, `${log}\n${runner.output.slice(-4000)}`).toBe('success');
    expect(log).toContain('fetched-from-coordinator');
    expect(log).toContain('Using Docker executor');
    await eventually(
      'the machine to be removed after its job',
      120,
      async () => (await listNamespaces(`flotilla-${GROUP}-`)).length === 0,
    );
  });
});
