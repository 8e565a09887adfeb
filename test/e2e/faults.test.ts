/**
 * Faults with real processes over loopback, each as a user sees it:
 * - a runner manager SIGKILLed mid-job and restarted with the same config (same system id): the
 *   job is reported failed (`runner_system_failure`) at once, not after the stale watchdog's
 *   10 minutes; its log keeps what was sent before the kill and says why; it is not run again;
 * - the coordinator SIGKILLed or SIGTERMed mid-job and restarted on the same data and address: the
 *   running job finishes, its log is complete and in order (the runner resends what was not
 *   acknowledged), and no job is handed out twice;
 * - a second coordinator started on the first one's data directory: refused, the first unharmed.
 */
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { stripLogTimestamps } from '../../src/shared/log-timestamps.js';
import { Fleet } from '../helpers/fleet.js';
import { FlotillaProcess, startCoordinatorProcess } from '../helpers/processes.js';
import { freePort } from '../helpers/free-port.js';

let fleet: Fleet;

beforeAll(async () => {
  // The default stale time (600 s): a job settled within this test was settled by the restart.
  fleet = await Fleet.start(['--listen', `127.0.0.1:${await freePort()}`]);
});

afterAll(async () => {
  await fleet?.stop();
});

/** `count` numbered lines, one every `every` seconds. */
function numberedScript(count: number, every: number): string {
  return `for i in $(seq 1 ${count}); do echo "line-$i"; sleep ${every}; done`;
}

function expectNumberedLines(log: string, count: number): void {
  const seen = [...stripLogTimestamps(log).matchAll(/^line-(\d+)$/gm)].map((m) => Number(m[1]));
  expect(seen).toEqual(Array.from({ length: count }, (_, i) => i + 1));
}

describe('runner manager SIGKILL', () => {
  it('reports the orphaned job failed at restart, with a log line saying why', async () => {
    const victim = await fleet.addRunner({ tags: ['victim'], concurrent: 1 });
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': `
doomed:
  tags: [victim]
  script: [echo before-kill, sleep 60]
`,
    });
    const job = await fleet.waitForJob(projectId, pipelineId, 'doomed', ['running']);
    await fleet.api.until(
      async () => (await fleet.trace(projectId, job.id)).includes('before-kill'),
      'the job to print',
    );
    victim.proc.signal('SIGKILL');
    await victim.proc.exited;
    const restarted = new FlotillaProcess(['runner', 'run', '--config', victim.configPath]);
    fleet.runners.push({ ...victim, proc: restarted });
    const done = await fleet.waitForJob(projectId, pipelineId, 'doomed', ['failed', 'success', 'canceled']);
    expect(done.id).toBe(job.id);
    expect(done.failure_reason, fleet.output()).toBe('runner_system_failure');
    const log = await fleet.trace(projectId, job.id);
    expect(log).toContain('before-kill');
    expect(log).toContain('ERROR: Job failed (system failure): the runner manager');
    expect(log).toContain('was restarted');
    await restarted.waitFor(/reported failed \(runner_system_failure\)/);
    const jobs = await fleet.api.jobs(projectId, pipelineId);
    expect(jobs.map((j: { id: number }) => j.id)).toEqual([job.id]);
  });
});

describe('coordinator restart mid-job', () => {
  it.each(['SIGKILL', 'SIGTERM'] as const)(
    'finishes the running job after a %s, log complete and in order, handed out once',
    async (signal) => {
      const tag = `coord-${signal.toLowerCase()}`;
      await fleet.addRunner({ tags: [tag], concurrent: 2 });
      const { projectId, pipelineId } = await fleet.pushPipeline({
        '.gitlab-ci.yml': `
steady:
  tags: [${tag}]
  script: ['${numberedScript(12, 0.5)}']
`,
      });
      const job = await fleet.waitForJob(projectId, pipelineId, 'steady', ['running']);
      await fleet.api.until(
        async () => (await fleet.trace(projectId, job.id)).includes('line-2'),
        'the job to print',
      );
      const coordinator = fleet.coordinator;
      coordinator.proc.signal(signal);
      await coordinator.proc.exited;
      const url = new URL(coordinator.url);
      const again = await startCoordinatorProcess(path.join(fleet.dir, 'coordinator'), [
        '--listen',
        `${url.hostname}:${url.port}`,
      ]);
      Object.assign(coordinator, { proc: again.proc });
      const done = await fleet.waitForJob(projectId, pipelineId, 'steady', ['failed', 'success', 'canceled']);
      expect(done.id).toBe(job.id);
      expect(done.status, fleet.output()).toBe('success');
      expectNumberedLines(await fleet.trace(projectId, job.id), 12);
      const jobs = await fleet.api.jobs(projectId, pipelineId);
      expect(jobs.map((j: { id: number }) => j.id)).toEqual([job.id]);
    },
  );
});

describe('a second coordinator on the same data directory', () => {
  it('is refused with what to do, and the first one keeps serving', async () => {
    const dataDir = path.join(fleet.dir, 'coordinator');
    const second = new FlotillaProcess(['coordinator', '--listen', '127.0.0.1:0', '--data-dir', dataDir]);
    expect(await second.exited).toBe(1);
    expect(second.output).toContain(`the data directory ${dataDir} is in use by another coordinator`);
    expect(second.output).toContain('[FLO_ERR_DATA_DIR_IN_USE]');
    expect(second.output).not.toContain('listening on');
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml': 'noop:\n  tags: [nobody]\n  script: ["echo hi"]\n',
    });
    expect((await fleet.api.jobs(projectId, pipelineId)).map((j: { name: string }) => j.name)).toEqual([
      'noop',
    ]);
  });
});
