/**
 * A job that ends while its coordinator is away, with real processes over loopback:
 * - the coordinator SIGKILLed while the job prints its last lines and restarted on the same data
 *   and address about 7 s later;
 * - a proxy in front of the coordinator answering every request `503` with `Retry-After: 3` for
 *   about 7 s (a coordinator whose database is down), the job ending meanwhile.
 * Either way the runner keeps the unacknowledged log and the final state and sends them again with
 * backoff: the job ends `success` with its whole log, every line once and in order, and the size
 * the runner reports equals the stored log (the coordinator warns when they differ).
 */
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { stripLogTimestamps } from '../../src/shared/log-timestamps.js';
import { Fleet } from '../helpers/fleet.js';
import { startFlakyProxy, type FlakyProxy } from '../helpers/flaky-proxy.js';
import { startCoordinatorProcess } from '../helpers/processes.js';
import { freePort } from '../helpers/free-port.js';

const LINES = 10;
const OUTAGE_MS = 7000;

let fleet: Fleet;
let proxy: FlakyProxy;

beforeAll(async () => {
  const port = await freePort();
  fleet = await Fleet.start(['--listen', `127.0.0.1:${port}`]);
  proxy = await startFlakyProxy({ host: '127.0.0.1', port });
});

afterAll(async () => {
  await fleet?.stop();
  await proxy?.close();
});

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Pushes a job printing LINES numbered lines over ~5 s; resolves once line-2 is stored. */
async function startJob(tag: string) {
  const { projectId, pipelineId } = await fleet.pushPipeline({
    '.gitlab-ci.yml': `
finishing:
  tags: [${tag}]
  script: ['for i in $(seq 1 ${LINES}); do echo "line-$i"; sleep 0.5; done']
`,
  });
  const job = await fleet.waitForJob(projectId, pipelineId, 'finishing', ['running']);
  await fleet.api.until(
    async () => (await fleet.trace(projectId, job.id)).includes('line-2'),
    'the job to print',
  );
  return { projectId, pipelineId, jobId: job.id as number };
}

async function expectWholeLog(projectId: number, pipelineId: number, jobId: number): Promise<string> {
  const done = await fleet.waitForJob(projectId, pipelineId, 'finishing', ['failed', 'success', 'canceled']);
  expect(done.id).toBe(jobId);
  expect(done.status, fleet.output()).toBe('success');
  const log = await fleet.trace(projectId, jobId);
  const seen = [...stripLogTimestamps(log).matchAll(/^line-(\d+)$/gm)].map((m) => Number(m[1]));
  expect(seen).toEqual(Array.from({ length: LINES }, (_, i) => i + 1));
  expect(log.match(/Job succeeded/g)).toHaveLength(1);
  expect(log.match(/Running with flotilla/g)).toHaveLength(1);
  expect(fleet.coordinator.proc.output).not.toContain('final trace size differs from the stored log');
  const jobs = await fleet.api.jobs(projectId, pipelineId);
  expect(jobs.map((j: { id: number }) => j.id)).toEqual([jobId]);
  return log;
}

/** The figures of a run, for docs/reliability.md: log bytes and the runner's retries. */
function report(name: string, log: string, runnerOutput: string, refused?: number): void {
  const retries = (re: RegExp): number => runnerOutput.match(re)?.length ?? 0;
  console.info(
    `${name}: ${Buffer.byteLength(log)} log bytes, ${LINES}/${LINES} lines once in order; ` +
      `runner retries: ${retries(/trace not accepted; retrying/g)} trace, ` +
      `${retries(/final job update not accepted yet/g)} final state` +
      (refused !== undefined ? `; ${refused} connections answered 503 by the proxy` : ''),
  );
}

describe('a job that ends during a coordinator outage', () => {
  it('reports success with its whole log after a coordinator SIGKILL and restart', async () => {
    const runner = await fleet.addRunner({ tags: ['outage-restart'], concurrent: 1 });
    const { projectId, pipelineId, jobId } = await startJob('outage-restart');
    const coordinator = fleet.coordinator;
    coordinator.proc.signal('SIGKILL');
    await coordinator.proc.exited;
    // the job's last lines, its end and its final state all fall into the outage
    await pause(OUTAGE_MS);
    const url = new URL(coordinator.url);
    const again = await startCoordinatorProcess(path.join(fleet.dir, 'coordinator'), [
      '--listen',
      `${url.hostname}:${url.port}`,
    ]);
    Object.assign(coordinator, { proc: again.proc });
    const log = await expectWholeLog(projectId, pipelineId, jobId);
    report('SIGKILL + restart', log, runner.proc.output);
  });

  it('reports success with its whole log through 503 answers with Retry-After', async () => {
    const runner = await fleet.addRunner({ tags: ['outage-503'], concurrent: 1, url: proxy.url });
    const { projectId, pipelineId, jobId } = await startJob('outage-503');
    const refusedBefore = proxy.dropped;
    proxy.down({ status: 503, retryAfter: 3 });
    await pause(OUTAGE_MS);
    proxy.up();
    const log = await expectWholeLog(projectId, pipelineId, jobId);
    expect(proxy.dropped - refusedBefore).toBeGreaterThan(0);
    report('503 + Retry-After', log, runner.proc.output, proxy.dropped - refusedBefore);
    expect(runner.proc.output).toMatch(/trace not accepted; retrying|final job update not accepted yet/);
  });
});
