import { crc32 } from 'node:zlib';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { jobPayload } from '../../../test/kits/executors/job-fixture.js';
import { silentLogger } from '../../shared/logger.js';
import { createCoordinatorClient, type CoordinatorClient } from '../coordinator-client.js';
import { createFakeClock, createInstantClock } from '../../../test/kits/fake-clock.js';
import {
  startFakeCoordinator,
  type FakeCoordinator,
  type FakeJob,
} from '../../../test/kits/runner/fake-coordinator.js';
import { createJobTrace, type JobTrace } from './job-trace.js';
import {
  createTraceSender,
  FINAL_UPDATE_RETRY_LIMIT,
  RETRY_BACKOFF_MAX_MS,
  type RemoteVerdict,
} from './trace-sender.js';

let coordinator: FakeCoordinator;
let client: CoordinatorClient;
let job: FakeJob;
let trace: JobTrace;
const verdicts: RemoteVerdict[] = [];

beforeEach(async () => {
  coordinator = await startFakeCoordinator();
  client = createCoordinatorClient({
    url: coordinator.url,
    token: 'glrt-runner',
    systemId: 's_000000000000',
    info: {},
    userAgent: 'test',
  });
  coordinator.enqueue(jobPayload());
  const result = await client.requestJob(new AbortController().signal);
  if (result.kind !== 'job') throw new Error('no job');
  await client.updateJob(result.payload.id, result.payload.token, { state: 'running' });
  job = coordinator.jobs.get(result.payload.id) as FakeJob;
  trace = createJobTrace({ secrets: [], tokenPrefixes: [], limitBytes: 32 * 1024 * 1024 });
  verdicts.length = 0;
});
afterEach(() => coordinator.close());

/** `maxBackoffMs` null: the production backoff. */
function sender(clock = createInstantClock(), maxBackoffMs: number | null = 10) {
  return createTraceSender({
    client,
    jobId: job.payload.id,
    jobToken: job.payload.token,
    trace,
    clock,
    logger: silentLogger(),
    onRemoteVerdict: (v) => verdicts.push(v),
    ...(maxBackoffMs !== null ? { maxBackoffMs } : {}),
  });
}

describe('trace sender against a loopback coordinator', () => {
  it('sends chunks of at most 1 MiB with inclusive Content-Range', async () => {
    const big = Buffer.alloc(2.5 * 1024 * 1024, 'x');
    trace.write(big);
    const s = sender();
    expect(await s.flush()).toBe(true);
    expect(coordinator.patches.map((p) => p.range)).toEqual([
      '0-1048575',
      '1048576-2097151',
      '2097152-2621439',
    ]);
    expect(job.trace.equals(big)).toBe(true);
    expect(s.sent).toBe(big.length);
  });

  it('sends 4 MiB chunks once the coordinator announces it accepts them', async () => {
    coordinator.tracePatchLimit = 4 * 1024 * 1024;
    const big = Buffer.alloc(9.5 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 12)) & 0xff;
    trace.write(big);
    const s = sender();
    expect(await s.flush()).toBe(true);
    // the first chunk is GitLab's size; its answer says 4 MiB
    expect(coordinator.patches.map((p) => `${p.range}:${p.status}`)).toEqual([
      '0-1048575:202',
      '1048576-5242879:202',
      '5242880-9437183:202',
      '9437184-9961471:202',
    ]);
    expect(job.trace.equals(big)).toBe(true);
  });

  it('never sends more than 4 MiB, whatever the coordinator announces', async () => {
    coordinator.tracePatchLimit = 64 * 1024 * 1024;
    trace.write(Buffer.alloc(10 * 1024 * 1024, 'z'));
    expect(await sender().flush()).toBe(true);
    expect(coordinator.patches.map((p) => p.range)).toEqual([
      '0-1048575',
      '1048576-5242879',
      '5242880-9437183',
      '9437184-10485759',
    ]);
  });

  it('goes back to 1 MiB chunks for good after a 413 to a larger one, and loses nothing', async () => {
    coordinator.tracePatchLimit = 4 * 1024 * 1024;
    const s = sender();
    trace.write(Buffer.alloc(1024 * 1024, 'a'));
    expect(await s.flush()).toBe(true);
    // a proxy in front of the coordinator takes 1 MiB at most
    coordinator.patchAnswers.push({ status: 413 });
    trace.write(Buffer.alloc(2.5 * 1024 * 1024, 'b'));
    expect(await s.flush()).toBe(true);
    trace.write(Buffer.alloc(1.5 * 1024 * 1024, 'c'));
    expect(await s.flush()).toBe(true);
    expect(coordinator.patches.map((p) => `${p.range}:${p.status}`)).toEqual([
      '0-1048575:202',
      '1048576-3670015:413',
      '1048576-2097151:202',
      '2097152-3145727:202',
      '3145728-3670015:202',
      '3670016-4718591:202',
      '4718592-5242879:202',
    ]);
    expect(job.trace.length).toBe(5 * 1024 * 1024);
    expect(job.trace.subarray(1024 * 1024, 3.5 * 1024 * 1024).every((b) => b === 0x62)).toBe(true);
  });

  it('keeps two PATCHes in flight once the coordinator announces it orders them, in order and once each', async () => {
    coordinator.tracePatchLimit = 4 * 1024 * 1024;
    coordinator.tracePatchesInFlight = 2;
    const big = Buffer.alloc(17 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 13 + (i >> 10)) & 0xff;
    trace.write(big);
    const s = sender();
    // the first (1 MiB) chunk's answer announces both; the next answers wait until two are in
    const gate = (): (() => void) => {
      let open = (): void => undefined;
      coordinator.patchGate = new Promise((resolve) => (open = resolve));
      return open;
    };
    const openFirst = gate();
    const flushed = s.flush();
    await vi.waitFor(() => expect(coordinator.maxPatchesInFlight).toBe(1));
    const openNext = gate();
    openFirst();
    await vi.waitFor(() => expect(coordinator.maxPatchesInFlight).toBe(2));
    coordinator.patchGate = undefined;
    openNext();
    expect(await flushed).toBe(true);
    expect(coordinator.maxPatchesInFlight).toBe(2);
    expect(coordinator.patches.map((p) => `${p.range}:${p.status}`)).toEqual([
      '0-1048575:202',
      '1048576-5242879:202',
      '5242880-9437183:202',
      '9437184-13631487:202',
      '13631488-17825791:202',
    ]);
    expect(job.trace.equals(big)).toBe(true);
    expect(s.sent).toBe(big.length);
  });

  it('goes back to one PATCH in flight after a refusal while two were, resending from the acknowledged offset', async () => {
    coordinator.tracePatchLimit = 4 * 1024 * 1024;
    coordinator.tracePatchesInFlight = 2;
    const s = sender();
    trace.write(Buffer.alloc(1024 * 1024, 'a'));
    expect(await s.flush()).toBe(true);
    // the next PATCH fails (a restart); the one sent after it is refused with 416 by the fake
    coordinator.patchAnswers.push({ status: 503 });
    trace.write(Buffer.alloc(12 * 1024 * 1024, 'b'));
    expect(await s.flush()).toBe(true);
    expect(coordinator.patches.map((p) => `${p.range}:${p.status}`)).toEqual([
      '0-1048575:202',
      '1048576-5242879:503',
      '5242880-9437183:416',
      '1048576-5242879:202',
      '5242880-9437183:202',
      '9437184-13631487:202',
    ]);
    expect(job.trace.length).toBe(13 * 1024 * 1024);
    expect(job.trace.subarray(1024 * 1024).every((b) => b === 0x62)).toBe(true);
  });

  it('keeps 1 MiB chunks with a coordinator that announces nothing (GitLab)', async () => {
    trace.write(Buffer.alloc(3 * 1024 * 1024, 'g'));
    expect(await sender().flush()).toBe(true);
    expect(coordinator.patches.map((p) => p.range)).toEqual([
      '0-1048575',
      '1048576-2097151',
      '2097152-3145727',
    ]);
  });

  it('realigns to the server size on 416 and resends', async () => {
    const s = sender();
    trace.write('hello ');
    await s.flush();
    job.trace = job.trace.subarray(0, 3);
    trace.write('world');
    expect(await s.flush()).toBe(true);
    expect(coordinator.patches.map((p) => `${p.range}:${p.status}`)).toEqual([
      '0-5:202',
      '6-10:416',
      '3-10:202',
    ]);
    expect(job.trace.toString()).toBe('hello world');
  });

  it.each([
    ['canceling', 202, 'cancel'],
    ['canceled', 202, 'abort'],
    ['failed', 202, 'abort'],
    ['running', 403, 'abort'],
  ] as const)('reacts to Job-Status %s / HTTP %i with %s', async (jobStatus, status, verdict) => {
    coordinator.patchAnswers.push({ status, headers: { 'job-status': jobStatus } });
    trace.write('x');
    await sender().flush();
    expect(verdicts).toEqual([verdict]);
  });

  it('sends the final state with crc32 and bytesize, resending while the server answers 202', async () => {
    coordinator.putAnswers.push(
      { status: 202, headers: { 'x-gitlab-trace-update-interval': '2' } },
      { status: 202 },
    );
    trace.write('line 1\nline 2\n');
    trace.finish();
    const clock = createInstantClock();
    const status = await sender(clock).finish({
      state: 'failed',
      failure_reason: 'script_failure',
      exit_code: 3,
    });
    expect(status).toBe(200);
    const finals = job.updates.slice(1);
    expect(finals).toHaveLength(3);
    const expected = `crc32:${crc32(Buffer.from('line 1\nline 2\n')).toString(16).padStart(8, '0')}`;
    expect(finals[2]).toMatchObject({
      state: 'failed',
      failure_reason: 'script_failure',
      exit_code: 3,
      output: { checksum: expected, bytesize: 14 },
    });
    expect(job.trace.toString()).toBe('line 1\nline 2\n');
    expect(clock.sleeps).toContain(2000);
  });

  it('patches every update interval, adopts the server interval, and keeps alive with a PUT when nothing was sent for an interval', async () => {
    coordinator.traceUpdateInterval = 5;
    const clock = createFakeClock();
    const s = sender(clock);
    s.start();
    trace.write('tick');
    await clock.waitForSleepers();
    expect(clock.sleeps).toEqual([3000]);
    clock.advance(3000);
    while (clock.sleeps.length < 2) await clock.waitForSleepers();
    expect(clock.sleeps[1]).toBe(5000);
    expect(job.trace.toString()).toBe('tick');
    for (let t = 3000; t < 35_000; t += 5000) {
      const before = clock.sleeps.length;
      clock.advance(5000);
      while (clock.sleeps.length === before) await clock.waitForSleepers();
    }
    expect(
      job.updates.some(
        (u, i) => i > 0 && u.state === 'running' && (u.output as { bytesize: number }).bytesize === 4,
      ),
    ).toBe(true);
    s.stop();
  });

  it('streams full chunks as they are written, without waiting for the update interval', async () => {
    const clock = createFakeClock();
    const s = sender(clock);
    s.start();
    await clock.waitForSleepers();
    const chunk = Buffer.alloc(512 * 1024, 'y');
    trace.write(chunk);
    trace.write(chunk);
    // a full chunk is written and the clock never moved: it goes out at once
    await vi.waitFor(() => expect(s.sent).toBe(2 * chunk.length));
    expect(clock.sleeps).toEqual([3000]);
    // less than a chunk waits for the interval
    trace.write(chunk);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.sent).toBe(2 * chunk.length);
    clock.advance(3000);
    await vi.waitFor(() => expect(s.sent).toBe(3 * chunk.length));
    expect(coordinator.patches.map((p) => p.range)).toEqual(['0-1048575', '1048576-1572863']);
    expect(job.trace.equals(Buffer.concat([chunk, chunk, chunk]))).toBe(true);
    s.stop();
  });

  it('stops streaming after a failed PATCH and resumes once an interval flush succeeds', async () => {
    const clock = createFakeClock();
    const s = sender(clock);
    s.start();
    await clock.waitForSleepers();
    coordinator.patchAnswers.push({ status: 500 });
    trace.write(Buffer.alloc(1024 * 1024, 'a'));
    await vi.waitFor(() => expect(coordinator.patches).toHaveLength(1));
    // more full chunks: no PATCH until the interval
    trace.write(Buffer.alloc(1024 * 1024, 'b'));
    trace.write(Buffer.alloc(1024 * 1024, 'c'));
    await new Promise((r) => setTimeout(r, 50));
    expect(coordinator.patches).toHaveLength(1);
    clock.advance(3000);
    await vi.waitFor(() => expect(s.sent).toBe(3 * 1024 * 1024));
    trace.write(Buffer.alloc(1024 * 1024, 'd'));
    await vi.waitFor(() => expect(s.sent).toBe(4 * 1024 * 1024));
    s.stop();
  });

  it('rides out a coordinator outage at the end: retries with backoff and Retry-After, nothing lost or sent twice', async () => {
    const text = Array.from({ length: 200 }, (_, i) => `line-${i + 1}`).join('\n') + '\n';
    trace.write(text);
    trace.finish();
    coordinator.patchAnswers.push(
      { status: 503, headers: { 'retry-after': '7' } },
      { status: 502 },
      { status: 502 },
    );
    coordinator.putAnswers.push({ status: 503, headers: { 'retry-after': '4' } }, { status: 500 });
    const clock = createInstantClock();
    const status = await sender(clock, null).finish({ state: 'success' });
    expect(status).toBe(200);
    // trace: Retry-After 7 s, then 2 s and 4 s of backoff; final PUT: Retry-After 4 s, then 2 s
    expect(clock.sleeps).toEqual([7000, 2000, 4000, 4000, 2000]);
    expect(coordinator.patches.map((p) => p.status)).toEqual([503, 502, 502, 202]);
    expect(job.trace.toString()).toBe(text);
    expect(job.status).toBe('success');
    expect(job.updates.at(-1)).toMatchObject({ state: 'success', output: { bytesize: text.length } });
  });

  it('gives up on the trace after a bounded number of tries, then still sends the final state', async () => {
    trace.write('never accepted\n');
    trace.finish();
    for (let i = 0; i < FINAL_UPDATE_RETRY_LIMIT + 5; i++) coordinator.patchAnswers.push({ status: 503 });
    const clock = createInstantClock();
    await sender(clock, null).finish({ state: 'success' });
    expect(coordinator.patches).toHaveLength(FINAL_UPDATE_RETRY_LIMIT);
    const waits = clock.sleeps.slice(0, FINAL_UPDATE_RETRY_LIMIT - 1);
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(Math.max(...waits)).toBe(RETRY_BACKOFF_MAX_MS);
    expect(job.updates.at(-1)).toMatchObject({ state: 'success' });
  });
});
