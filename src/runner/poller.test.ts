import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { JobPayload } from '../api/runner-api.js';
import { jobPayload } from '../../test/kits/executors/job-fixture.js';
import { silentLogger } from '../shared/logger.js';
import { createCoordinatorClient } from './coordinator-client.js';
import { runPollWorker, UNHEALTHY_INTERVAL_MS, type PollTarget } from './poller.js';
import { createSlots, type Slots } from './slots.js';
import { createFakeClock, type FakeClock } from '../../test/kits/fake-clock.js';
import { startFakeCoordinator, type FakeCoordinator } from '../../test/kits/runner/fake-coordinator.js';

let coordinator: FakeCoordinator;
let clock: FakeClock;
let controller: AbortController;
let slots: Slots;
let target: PollTarget;
let jobs: { payload: JobPayload; id: number }[];
let worker: Promise<void>;

beforeEach(async () => {
  coordinator = await startFakeCoordinator();
  clock = createFakeClock();
  controller = new AbortController();
  slots = createSlots(4);
  jobs = [];
  target = {
    client: createCoordinatorClient({
      url: coordinator.url,
      token: 'glrt-poller',
      systemId: 's_000000000000',
      info: { features: { two_phase_job_commit: true } },
      userAgent: 't',
    }),
    limit: 0,
    requestConcurrency: 1,
    unhealthyCount: 0,
    parkedUntilMs: 0,
    used: new Set(),
  };
});
afterEach(async () => {
  controller.abort();
  await worker;
  await coordinator.close();
});

function startWorker(): void {
  worker = runPollWorker({
    target,
    index: 0,
    slots,
    clock,
    logger: silentLogger(),
    signal: controller.signal,
    checkIntervalMs: () => 3000,
    random: () => 0,
    onJob: (payload, id) => jobs.push({ payload, id }),
  });
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

describe('poll worker', () => {
  it('sends the RUNNER-TOKEN body and echoes X-GitLab-Last-Update; a held long poll re-polls at once', async () => {
    coordinator.holdMs = 30;
    coordinator.onHold = () => clock.advance(3000);
    startWorker();
    await until(() => coordinator.requests.length >= 3);
    expect(coordinator.requests[0]).toMatchObject({ token: 'glrt-poller', system_id: 's_000000000000' });
    expect(coordinator.requests[0]).not.toHaveProperty('last_update');
    expect(coordinator.requests[1]?.last_update).toBe('1');
    expect(clock.sleeps).toEqual([]);
  });

  it('re-polls at once after the first queue version, but waits the interval when not held', async () => {
    startWorker();
    await until(() => clock.pending === 1);
    expect(coordinator.requests.map((r) => r.last_update)).toEqual([undefined, '1']);
    expect(clock.sleeps).toEqual([3000]);
  });

  it('takes a job queued during the first long poll without waiting for the check interval', async () => {
    coordinator.holdMs = 60_000;
    startWorker();
    await until(() => coordinator.requests.length === 2 && coordinator.heldCount === 1);
    coordinator.enqueue(jobPayload({ id: 8 }));
    await until(() => jobs.length === 1);
    expect(jobs[0]?.payload.id).toBe(8);
    expect(clock.sleeps).toEqual([]);
  });

  it('re-polls at once when a 204 carries a new queue version (Workhorse long poll end)', async () => {
    coordinator.requestAnswers.push(
      { status: 204, headers: { 'x-gitlab-last-update': '1' } },
      { status: 204, headers: { 'x-gitlab-last-update': '2' } },
      { status: 204, headers: { 'x-gitlab-last-update': '2' } },
    );
    startWorker();
    await until(() => coordinator.requests.length === 3 && clock.pending === 1);
    expect(coordinator.requests.map((r) => r.last_update)).toEqual([undefined, '1', '2']);
    expect(clock.sleeps).toEqual([3000]);
  });

  it('hands a 201 job over with its slot and polls again immediately', async () => {
    coordinator.enqueue(jobPayload({ id: 5 }));
    startWorker();
    await until(() => coordinator.requests.length >= 2);
    expect(jobs.map((j) => [j.payload.id, j.id])).toEqual([[5, 0]]);
    expect(target.used.has(0)).toBe(true);
  });

  it.each([
    [{ status: 429, headers: { 'retry-after': '7' } }, 7000],
    [{ status: 409 }, 1000],
    [{ status: 503 }, 1000],
  ])('backs off after %j by %i ms', async (answer, wait) => {
    coordinator.requestAnswers.push(answer, { status: 500 });
    startWorker();
    await until(() => clock.pending === 1);
    expect(clock.sleeps).toEqual([wait]);
    clock.advance(wait);
    await until(() => clock.sleeps.length === 2);
    expect(clock.sleeps[1]).toBe(2000);
    expect(target.used.size).toBe(0);
  });

  it('parks the entry after 3 unhealthy answers in a row', async () => {
    coordinator.requestAnswers.push({ status: 403 }, { status: 403 }, { status: 403 });
    startWorker();
    for (let i = 1; i <= 3; i++) {
      await until(() => clock.sleeps.length === i);
      clock.advance(3000);
    }
    await until(() => clock.sleeps.length === 4);
    expect(clock.sleeps.slice(2)).toEqual([3000, UNHEALTHY_INTERVAL_MS - 3000]);
  });

  it('does not request while the runner limit is used up, and resumes on release', async () => {
    target.limit = 1;
    coordinator.enqueue(jobPayload({ id: 6 }));
    startWorker();
    await until(() => jobs.length === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(coordinator.requests).toHaveLength(1);
    slots.release(target, 0);
    await until(() => coordinator.requests.length === 2);
  });

  it('aborts an in-flight long poll when stopped', async () => {
    coordinator.holdMs = 60_000;
    coordinator.requestAnswers.push({ status: 204, headers: { 'x-gitlab-last-update': '1' } });
    startWorker();
    await until(() => coordinator.requests.length === 2 && coordinator.heldCount === 1);
    controller.abort();
    await worker;
    expect(target.used.size).toBe(0);
  });
});
