import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { AnnouncedJobs } from '../api/announced-jobs.js';
import type { JobPayload } from '../api/runner-api.js';
import type { ExecutorFactory } from '../executors/executor.js';
import { loadConfigFile, validateConfig } from './config/load.js';
import { createShellExecutorFactory } from '../executors/shell/shell-executor.js';
import { jobPayload } from '../../test/kits/executors/job-fixture.js';
import { systemClock } from '../shared/clock.js';
import { createLogger, silentLogger } from '../shared/logger.js';
import { createRunnerManager, type RunnerManager } from './manager.js';
import { startFakeCoordinator, type FakeCoordinator } from '../../test/kits/runner/fake-coordinator.js';

let coordinator: FakeCoordinator;
let dir: string;
let manager: RunnerManager | undefined;
let registry: Registry;

beforeEach(async () => {
  coordinator = await startFakeCoordinator();
  dir = await mkdtemp(join(tmpdir(), 'flo-mgr-'));
  registry = new Registry();
});
afterEach(async () => {
  await manager?.stop({ graceful: false });
  manager = undefined;
  await coordinator.close();
});

function tomlFor(extra = ''): string {
  return (
    `concurrent = 1\ncheck_interval = "20ms"\nlisten_address = "127.0.0.1:0"\nshutdown_timeout = 5\n${extra}` +
    `[[runners]]\nname = "m1"\nurl = "${coordinator.url}"\ntoken = "glrt-managertoken1"\nexecutor = "shell"\nbuilds_dir = "${dir}/builds"\n`
  );
}

async function startManager(toml = tomlFor(), logger = silentLogger()): Promise<RunnerManager> {
  const path = join(dir, 'config.toml');
  await writeFile(path, toml);
  const { config } = await loadConfigFile(path);
  manager = createRunnerManager({
    config,
    configPath: path,
    systemId: 's_0123456789ab',
    logger,
    clock: systemClock,
    registry,
    executorFactories: [createShellExecutorFactory({ killGraceMs: 200 })],
    configWatchIntervalMs: 60_000,
  });
  await manager.start();
  return manager;
}

function job(id: number, script: string[], after?: string[]): JobPayload {
  const steps: JobPayload['steps'] = [
    { name: 'script', script, timeout: 3600, when: 'on_success', allow_failure: false },
  ];
  if (after)
    steps.push({ name: 'after_script', script: after, timeout: 3600, when: 'always', allow_failure: true });
  return jobPayload({
    id,
    token: `glcbt-job${id}token`,
    steps,
    variables: [{ key: 'GIT_STRATEGY', value: 'none', public: true, masked: false }],
  });
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}

/** The value of one series of the registry (labels compared as a set); throws when absent. */
async function sample(name: string, labels: Record<string, string>): Promise<number> {
  const base = name.replace(/_(count|sum|bucket)$/, '');
  for (const metric of await registry.getMetricsAsJSON()) {
    if (metric.name !== base && metric.name !== name) continue;
    for (const v of metric.values as {
      metricName?: string;
      labels: Record<string, unknown>;
      value: number;
    }[]) {
      if ((v.metricName ?? metric.name) !== name) continue;
      const keys = Object.keys(v.labels).filter((k) => k !== 'le');
      if (keys.length === Object.keys(labels).length && keys.every((k) => String(v.labels[k]) === labels[k]))
        return v.value;
    }
  }
  throw new Error(`no series ${name}${JSON.stringify(labels)} in:\n${await registry.metrics()}`);
}

const finalState = (id: number) => coordinator.jobs.get(id)?.updates.at(-1)?.state;

describe('runner manager', () => {
  it('polls, runs a job to success and serves metrics, jobs list and health', async () => {
    const m = await startManager();
    const marker = join(dir, 'go');
    coordinator.enqueue(job(1, [`while [ ! -f ${marker} ]; do sleep 0.02; done`, 'echo done']));
    await until(() => m.runningJobs()[0]?.stage === 'step_script');
    const base = `http://${m.statusAddress ?? ''}`;
    const list = await fetch(`${base}/debug/jobs/list`);
    expect(list.headers.get('x-list-version')).toBe('2');
    expect(await list.text()).toMatch(
      /^url=http:\/\/127\.0\.0\.1:\d+\/group\/p\/-\/jobs\/1 state=running stage=step_script executor_stage=executor_run duration=\d+s\n$/,
    );
    await writeFile(marker, '');
    await until(() => finalState(1) === 'success');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(
      'gitlab_runner_jobs_total{runner="managerto",runner_name="m1",system_id="s_0123456789ab"} 1',
    );
    expect(metrics).toContain('gitlab_runner_concurrent 1');
    expect(metrics).toMatch(
      /gitlab_runner_api_request_statuses_total\{runner="managerto",system_id="s_0123456789ab",endpoint="request_job",method="post",status="201"\} 1/,
    );
    expect(
      await sample('gitlab_runner_api_request_duration_seconds_count', {
        runner: 'managerto',
        system_id: 's_0123456789ab',
        endpoint: 'request_job',
        status_class: '2xx',
        method: 'post',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(metrics).toContain('gitlab_runner_version_info{name="flotilla"');
    expect((await fetch(`${base}/-/health`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it("counts failed jobs, worker feeds and slots with gitlab-runner's names", async () => {
    const m = await startManager();
    coordinator.enqueue(job(1, ['exit 3']));
    await until(() => finalState(1) === 'failed');
    await until(() => m.runningJobs().length === 0);
    const entry = { runner: 'managerto', runner_name: 'm1', system_id: 's_0123456789ab' };
    const failures = 'gitlab_runner_worker_processing_failures_total';
    expect(
      await sample('gitlab_runner_failed_jobs_total', {
        runner: 'managerto',
        runner_name: 'm1',
        failure_reason: 'script_failure',
      }),
    ).toBe(1);
    expect(await sample(failures, { ...entry, failure_type: 'job_failure' })).toBe(1);
    expect(await sample(failures, { ...entry, failure_type: 'other' })).toBe(0);
    expect(await sample(failures, { ...entry, failure_type: 'no_free_executor' })).toBe(0);
    expect(await sample('gitlab_runner_worker_feeds_total', entry)).toBeGreaterThanOrEqual(2);
    expect(await sample('gitlab_runner_worker_feed_failures_total', entry)).toBeGreaterThanOrEqual(0);
    expect(await sample('gitlab_runner_worker_slots_number', {})).toBe(1);
    expect(await sample('gitlab_runner_worker_slot_operations_total', { operation: 'started' })).toBe(1);
    expect(await sample('gitlab_runner_worker_slot_operations_total', { operation: 'stopped' })).toBe(0);
    await m.stop({ graceful: false });
    expect(await sample('gitlab_runner_worker_slots_number', {})).toBe(0);
    expect(await sample('gitlab_runner_worker_slot_operations_total', { operation: 'stopped' })).toBe(1);
  });

  it('honours concurrent: a second job is not requested while the first runs', async () => {
    const m = await startManager();
    const marker = join(dir, 'go');
    coordinator.enqueue(job(1, [`while [ ! -f ${marker} ]; do sleep 0.02; done`]));
    coordinator.enqueue(job(2, ['true']));
    await until(() => m.runningJobs().length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect([...coordinator.jobs.keys()]).toEqual([1]);
    await writeFile(marker, '');
    await until(() => finalState(2) === 'success');
  });

  it('graceful stop waits for the running job and stops polling', async () => {
    const m = await startManager();
    const marker = join(dir, 'go');
    coordinator.enqueue(job(1, [`while [ ! -f ${marker} ]; do sleep 0.02; done`]));
    await until(() => m.runningJobs().length === 1);
    const stopping = m.stop({ graceful: true });
    expect(m.stop({ graceful: true })).toBe(stopping);
    const requests = coordinator.requests.length;
    await writeFile(marker, '');
    await stopping;
    expect(finalState(1)).toBe('success');
    expect(coordinator.requests.length).toBe(requests);
  });

  it('forceful stop aborts running jobs and reports runner_system_failure without after_script', async () => {
    const m = await startManager();
    coordinator.enqueue(job(1, ['sleep 300'], [`touch ${join(dir, 'after')}`]));
    await until(() => m.runningJobs().length === 1);
    await m.stop({ graceful: false });
    expect(coordinator.jobs.get(1)?.updates.at(-1)).toMatchObject({
      state: 'failed',
      failure_reason: 'runner_system_failure',
    });
    expect(existsSync(join(dir, 'after'))).toBe(false);
  });

  it('reloads a valid config, rejects an invalid one and keeps the old', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()),
    });
    const m = await startManager(
      tomlFor(),
      createLogger({ level: 'info', format: 'json', destination: sink }),
    );
    await writeFile(join(dir, 'config.toml'), tomlFor().replace('concurrent = 1', 'concurrent = 3'));
    expect(await m.reload()).toBe(true);
    expect(m.config.concurrent).toBe(3);
    await writeFile(join(dir, 'config.toml'), tomlFor().replace('concurrent = 1', 'concurrent = "lots"'));
    expect(await m.reload()).toBe(false);
    expect(m.config.concurrent).toBe(3);
    const metrics = await registry.metrics();
    expect(metrics).toContain('gitlab_runner_configuration_loading_error_total 1');
    expect(metrics).toContain('gitlab_runner_configuration_loaded_total 2');
    expect(metrics).toContain('gitlab_runner_errors_total{level="warning"} 1');
    const rejected = lines
      .map((l) => JSON.parse(l) as { msg: string; errors?: string })
      .find((l) => l.msg === 'config reload rejected');
    expect(rejected?.errors).toContain('concurrent: must be a positive integer, got "lots"');
  });

  it('accepts a config object directly (in-process use)', async () => {
    const { config } = validateConfig({
      check_interval: 0.02,
      runners: [
        {
          name: 'inproc',
          url: coordinator.url,
          token: 'glrt-inprocess',
          executor: 'shell',
          builds_dir: join(dir, 'b'),
        },
      ],
    });
    manager = createRunnerManager({
      config,
      systemId: 's_0123456789ab',
      logger: silentLogger(),
      clock: systemClock,
      registry,
      executorFactories: [createShellExecutorFactory()],
    });
    await manager.start();
    coordinator.enqueue(job(9, ['echo in-process']));
    await until(() => finalState(9) === 'success');
    expect(coordinator.jobs.get(9)?.trace.toString()).toContain('in-process');
  });

  it('keeps request_concurrency long polls in flight per runner entry', async () => {
    coordinator.holdMs = 60_000;
    const m = await startManager(
      tomlFor()
        .replace('concurrent = 1', 'concurrent = 4')
        .replace('executor = "shell"', 'executor = "shell"\nrequest_concurrency = 2'),
    );
    await until(() => coordinator.heldCount === 2);
    coordinator.enqueue(job(1, ['true']));
    coordinator.enqueue(job(2, ['true']));
    await until(() => finalState(1) === 'success' && finalState(2) === 'success');
    await until(() => m.runningJobs().length === 0);
  });

  it("delivers a Flotilla coordinator's announced jobs to an executor that asks, and which job was announced", async () => {
    const seen: (AnnouncedJobs | undefined)[] = [];
    const announcedIds: number[] = [];
    const shell = createShellExecutorFactory({ killGraceMs: 200 });
    const factory: ExecutorFactory = {
      name: shell.name,
      shell: shell.shell,
      features: shell.features,
      create: (j) => shell.create(j),
      announcements: { jobs: (a) => void seen.push(a), jobAnnounced: (id) => void announcedIds.push(id) },
    };
    coordinator.requestAnswers.push(
      { status: 204, headers: { 'x-flotilla-announced-jobs': 'created=3, next=2, uncovered=1' } },
      { status: 204 },
    );
    const path = join(dir, 'config.toml');
    await writeFile(path, tomlFor());
    const { config } = await loadConfigFile(path);
    manager = createRunnerManager({
      config,
      configPath: path,
      systemId: 's_0123456789ab',
      logger: silentLogger(),
      clock: systemClock,
      registry,
      executorFactories: [factory],
      configWatchIntervalMs: 60_000,
    });
    await manager.start();
    await until(() => seen.length >= 2);
    // The first answer's announcement, then none (an answer without the header, as GitLab's).
    expect(seen.slice(0, 2)).toEqual([{ created: 3, next: 2, uncovered: 1 }, undefined]);
    expect(announcedIds).toEqual([]);
    // A job the coordinator marks as announced (a later stage's).
    coordinator.jobAnswerHeaders = {
      'x-flotilla-job-announced': '1',
      'x-flotilla-announced-jobs': 'created=0, next=0, uncovered=0',
    };
    coordinator.enqueue(job(5, ['true']));
    await until(() => announcedIds.length > 0);
    expect(announcedIds).toEqual([5]);
    expect(seen).toContainEqual({ created: 0, next: 0, uncovered: 0 });
  });
});
