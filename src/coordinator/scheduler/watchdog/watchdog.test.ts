/**
 * The watchdog on a real (in-memory SQLite) store with an injected clock: a job it fails gets a
 * line in its log saying why, after what was already logged.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Clock } from '../../../shared/clock.js';
import { silentLogger } from '../../../shared/logger.js';
import { defaultCoordinatorConfig } from '../../config.js';
import { newJob, newPipeline, newProject } from '../../../../test/kits/coordinator/store/conformance.js';
import { createMemoryStore } from '../../store/create-store.js';
import type { JobRecord, Store } from '../../store/store.js';
import type { SchedulerDeps } from '../deps.js';
import type { RepositoryReader } from '../repository.js';
import { RunnerQueue } from '../queue/runner-queue.js';
import { runWatchdog } from './watchdog.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
let store: Store;
let deps: SchedulerDeps;
let now = T0;

const clock: Clock = {
  now: () => new Date(now),
  monotonic: () => now,
  sleep: () => Promise.resolve(),
};

beforeEach(async () => {
  store = await createMemoryStore();
  now = T0;
  deps = {
    store,
    // Failing a job never reads the repository.
    repos: {} as RepositoryReader,
    queue: new RunnerQueue(),
    clock,
    logger: silentLogger(),
    config: defaultCoordinatorConfig({ externalUrl: 'http://127.0.0.1:1', artifactsDir: '/nonexistent' }),
  };
});

afterEach(async () => {
  await store.close();
});

async function runningJobs(): Promise<{ slow: JobRecord; silent: JobRecord }> {
  const project = await store.createProject(newProject());
  const { jobs } = await store.createPipeline(newPipeline(project.id, { status: 'running' }), [
    newJob('slow', { status: 'running' }),
    newJob('silent', { status: 'running' }),
  ]);
  const [slow, silent] = jobs as [JobRecord, JobRecord];
  const started = new Date(T0);
  await store.updateJob(slow.id, { startedAt: started, lastSeenAt: started, timeoutSeconds: 60 });
  await store.updateJob(silent.id, { startedAt: started, lastSeenAt: started, timeoutSeconds: 3600 });
  for (const job of [slow, silent]) await store.appendTrace(job.id, 0, Buffer.from('$ make\nbuilding\n'));
  return { slow, silent };
}

async function logOf(job: JobRecord): Promise<string> {
  return (await store.readTrace(job.id)).toString();
}

describe('watchdog', () => {
  it('fails a job past its timeout and grace, with a line in its log saying why', async () => {
    const { slow, silent } = await runningJobs();
    now = T0 + 100_000; // 60 s timeout + 60 s grace not yet over
    await store.touchJobs([slow.id, silent.id], new Date(now));

    expect(await runWatchdog(deps)).toEqual([]);
    expect((await store.getJob(slow.id))?.status).toBe('running');

    now = T0 + 121_000;
    await store.touchJobs([slow.id, silent.id], new Date(now));
    expect(await runWatchdog(deps)).toEqual([slow.pipelineId]);

    const failed = await store.getJob(slow.id);
    expect([failed?.status, failed?.failureReason]).toEqual(['failed', 'job_execution_timeout']);
    expect(await logOf(slow)).toBe(
      "$ make\nbuilding\n\n\x1b[31;1mERROR: Job failed: execution took longer than 60 seconds and the runner did not end it; failed by the coordinator's watchdog\x1b[0;m\n",
    );
    expect((await store.getJob(silent.id))?.status).toBe('running');
    expect(await logOf(silent)).toBe('$ make\nbuilding\n');
  });

  it('fails a job whose runner went silent, with a line in its log saying why', async () => {
    const { slow, silent } = await runningJobs();
    await store.updateJob(slow.id, { timeoutSeconds: 3600 });
    now = T0 + 599_000;
    await store.touchJobs([slow.id], new Date(now));

    expect(await runWatchdog(deps)).toEqual([]);

    now = T0 + 601_000;
    expect(await runWatchdog(deps)).toEqual([silent.pipelineId]);

    const failed = await store.getJob(silent.id);
    expect([failed?.status, failed?.failureReason]).toEqual(['failed', 'runner_system_failure']);
    const log = await logOf(silent);
    expect(log.startsWith('$ make\nbuilding\n\n\x1b[31;1mERROR: Job failed (system failure): ')).toBe(true);
    expect(log).toContain('stopped contacting the coordinator about this job for 600 seconds');
    expect(log.endsWith("failed by the coordinator's watchdog (--runner-stale-seconds 600)\x1b[0;m\n")).toBe(
      true,
    );
    expect(await logOf(slow)).toBe('$ make\nbuilding\n');
  });
});
