/**
 * PostgreSQL restarted under load, with real processes: a coordinator on a PostgreSQL server of the
 * test's own (never the shared one) and two runner managers working through a two-stage pipeline.
 * The server is stopped mid-run (`fast`: sessions ended with 57P01; `immediate`: killed as in a
 * crash, recovered from the WAL at start) and started again on the same data. What the user sees:
 * - while it is down, the coordinator keeps running and answers 503 `FLO_ERR_STORE_UNAVAILABLE`
 *   with `Retry-After` (the API, the runners' requests) and `/-/ready` says 503;
 * - once it is back, without a restart of anything else, every job ends `success` exactly once
 *   (no job handed out twice, none retried), and every log is whole and in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { stripLogTimestamps } from '../../src/shared/log-timestamps.js';
import { Fleet } from '../helpers/fleet.js';
import { PostgresServer } from '../helpers/postgres-server.js';

const JOBS_PER_STAGE = 6;
const LINES = 10;

let pg: PostgresServer;
let fleet: Fleet;

beforeAll(async () => {
  pg = await PostgresServer.start();
  fleet = await Fleet.start(['--database', pg.url()]);
  for (let i = 0; i < 2; i++) await fleet.addRunner({ concurrent: 3 });
});

afterAll(async () => {
  await fleet?.stop();
  await pg?.destroy();
});

function pipelineYaml(): string {
  const script = `for i in $(seq 1 ${LINES}); do echo "line-$i"; sleep 0.3; done`;
  const jobs: string[] = ['stages: [build, test]'];
  for (const stage of ['build', 'test']) {
    for (let i = 1; i <= JOBS_PER_STAGE; i++) {
      jobs.push(`${stage}-${i}:\n  stage: ${stage}\n  script: ['${script}']`);
    }
  }
  return jobs.join('\n');
}

function numberedLines(log: string): number[] {
  return [...stripLogTimestamps(log).matchAll(/^line-(\d+)$/gm)].map((m) => Number(m[1]));
}

async function describeJobs(projectId: number, jobs: any[]): Promise<string> {
  const lines: string[] = [];
  for (const job of jobs) {
    const log = await fleet.trace(projectId, job.id);
    lines.push(`${job.name} ${job.status} ${job.failure_reason ?? ''}\n${log.slice(-600)}`);
  }
  return lines.join('\n');
}

/** Requests the coordinator refused because the database was unreachable, so far. */
function refusals(): number {
  return fleet.coordinator.proc.output.split('database unreachable: request refused').length - 1;
}

async function expectRefusedWhileDown(): Promise<void> {
  const res = await fleet.api.get('/projects').catch((err: unknown) => {
    throw new Error(`the coordinator did not answer: ${String(err)}\n${fleet.output()}`);
  });
  expect(res.status, res.text).toBe(503);
  expect(res.body).toMatchObject({ code: 'FLO_ERR_STORE_UNAVAILABLE' });
  expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  const ready = await fetch(`${fleet.coordinator.url}/-/ready`);
  expect(ready.status).toBe(503);
  expect(fleet.coordinator.proc.child.exitCode).toBeNull();
}

describe('PostgreSQL restarted under load', () => {
  it.each(['fast', 'immediate'] as const)(
    'refuses with 503 while down (%s stop), then every job ends success once, logs whole',
    async (mode) => {
      const { projectId, pipelineId } = await fleet.pushPipeline({ '.gitlab-ci.yml': pipelineYaml() });
      // Every build job in its script (a job fetching its sources during the outage fails: see the doc).
      await fleet.api.until(async () => {
        const jobs = await fleet.api.jobs(projectId, pipelineId);
        const builds = jobs.filter((j: { stage: string }) => j.stage === 'build');
        const logs = await Promise.all(builds.map((j: { id: number }) => fleet.trace(projectId, j.id)));
        return logs.every((log) => log.includes('line-2'));
      }, 'every build job to be in its script');
      const refusedBefore = refusals();
      await pg.stop(mode);
      await expectRefusedWhileDown();
      // Down long enough for the runners to be refused (trace chunks, job requests) and to retry.
      await fleet.api.until(async () => refusals() >= refusedBefore + 4, 'runner requests to be refused');
      const refused = refusals() - refusedBefore;
      await pg.startAgain();
      const done = await fleet.api.waitForPipelineStatus(projectId, pipelineId, [
        'success',
        'failed',
        'canceled',
      ]);
      const jobs = await fleet.api.jobs(projectId, pipelineId);
      expect(done.status, await describeJobs(projectId, jobs)).toBe('success');
      expect(jobs).toHaveLength(2 * JOBS_PER_STAGE);
      expect(new Set(jobs.map((j: { name: string }) => j.name)).size).toBe(2 * JOBS_PER_STAGE);
      for (const job of jobs) {
        expect(job.status).toBe('success');
        expect(job.retried ?? false).toBe(false);
        const log = await fleet.trace(projectId, job.id);
        expect(numberedLines(log), `${job.name}\n${log}`).toEqual(
          Array.from({ length: LINES }, (_, i) => i + 1),
        );
        expect(log).toContain('Job succeeded');
      }
      console.log(
        `${mode} stop: ${refused} requests refused with 503 while down; ${jobs.length} jobs, all success once`,
      );
    },
  );
});
