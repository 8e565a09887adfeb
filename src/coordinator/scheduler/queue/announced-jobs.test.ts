import { describe, expect, it } from 'vitest';

import { formatAnnouncedJobs, parseAnnouncedJobs } from '../../../api/announced-jobs.js';
import { captureLogger } from '../../../../test/kits/coordinator/git/git-test-kit.js';
import { createFakeClock } from '../../../../test/kits/fake-clock.js';
import { silentLogger } from '../../../shared/logger.js';
import type { Store } from '../../store/store.js';
import {
  ANNOUNCE_READ_LIMIT,
  announcedFor,
  createAnnouncer,
  wasAnnounced,
  type AnnounceJob,
} from './announced-jobs.js';

const job = (pipelineId: number, stageIdx: number, status: string, tagList: string[] = []): AnnounceJob =>
  ({ pipelineId, stageIdx, status, tagList, protected: false }) as AnnounceJob;

const untagged = { tagList: [], runUntagged: true, accessLevel: 'not_protected' as const };

describe('announced jobs', () => {
  it('counts created jobs by pipeline: the next stage, and what its current stage will not cover', () => {
    const jobs = [
      // Pipeline 1: build running; test (3 jobs) and deploy (1) created: 2 tests uncovered.
      job(1, 0, 'running'),
      job(1, 1, 'created'),
      job(1, 1, 'created'),
      job(1, 1, 'created'),
      job(1, 2, 'created'),
      // Pipeline 2: two builds pending, one test created: covered.
      job(2, 0, 'pending'),
      job(2, 0, 'pending'),
      job(2, 1, 'created'),
      // Pipeline 3: nothing created.
      job(3, 0, 'running'),
      // Pipeline 4: only a gpu job created: not this runner's.
      job(4, 0, 'running'),
      job(4, 1, 'created', ['gpu']),
    ];
    expect(announcedFor(jobs, untagged)).toEqual({ created: 5, next: 4, uncovered: 2 });
    // A gpu runner that takes untagged jobs too: pipeline 4's job is covered by its running build.
    expect(announcedFor(jobs, { ...untagged, tagList: ['gpu'] })).toEqual({
      created: 6,
      next: 5,
      uncovered: 2,
    });
    // A runner for tagged jobs only sees pipeline 4's, and nothing it runs covers it.
    expect(announcedFor(jobs, { ...untagged, tagList: ['gpu'], runUntagged: false })).toEqual({
      created: 1,
      next: 1,
      uncovered: 1,
    });
  });

  it('with the time, says per pipeline its next stage, the jobs ahead of it and the youngest one’s age', () => {
    const now = 1_000_000;
    const started = (pipelineId: number, stageIdx: number, secondsAgo: number): AnnounceJob => ({
      ...job(pipelineId, stageIdx, 'running'),
      startedAt: new Date(now - secondsAgo * 1000),
    });
    const jobs = [
      // Pipeline 1: two builds running for 90 s and 30 s; three tests created.
      started(1, 0, 90),
      started(1, 0, 30),
      job(1, 1, 'created'),
      job(1, 1, 'created'),
      job(1, 1, 'created'),
      // Pipeline 2: a build running for 50 s and one pending (age 0); a test created.
      started(2, 0, 50),
      job(2, 0, 'pending'),
      job(2, 1, 'created'),
      // Pipeline 3: nothing ahead of its created deploy (its stage just ended).
      job(3, 2, 'created'),
    ];
    expect(announcedFor(jobs, untagged, now)).toEqual({
      created: 5,
      next: 5,
      uncovered: 2,
      stages: [
        { next: 3, unfinished: 2, elapsedMs: 30_000 },
        { next: 1, unfinished: 2, elapsedMs: 0 },
        { next: 1, unfinished: 0, elapsedMs: 0 },
      ],
      atMs: now,
    });
  });

  it('gives the stages’ ages as of the request, not of the read', async () => {
    const clock = createFakeClock();
    const items = [
      { ...job(1, 0, 'running'), startedAt: new Date(clock.now().getTime() - 10_000) },
      job(1, 1, 'created'),
      job(1, 1, 'created'),
    ];
    const store = { listAnnounceableJobs: async () => items } as unknown as Store;
    const announcer = createAnnouncer({ store, clock, logger: silentLogger(), refreshMs: 60_000 });
    expect((await announcer.forRunner(untagged)).stages).toEqual([
      { next: 2, unfinished: 1, elapsedMs: 10_000 },
    ]);
    clock.advance(4000);
    expect((await announcer.forRunner(untagged)).stages).toEqual([
      { next: 2, unfinished: 1, elapsedMs: 14_000 },
    ]);
  });

  it('a job was announced when it waited for an earlier stage or for its needs, a retry never', () => {
    const job = (stageIdx: number, needs: { job: string }[] | null, retryOfId: number | null = null) =>
      ({ stageIdx, definition: { needs }, retryOfId }) as unknown as Parameters<typeof wasAnnounced>[0];
    expect(wasAnnounced(job(0, null))).toBe(false);
    expect(wasAnnounced(job(2, null))).toBe(true);
    expect(wasAnnounced(job(2, []))).toBe(false);
    expect(wasAnnounced(job(0, [{ job: 'a' }]))).toBe(true);
    // a retry is created when the job before it ended, its prerequisites long done
    expect(wasAnnounced(job(2, null, 41))).toBe(false);
    expect(wasAnnounced(job(0, [{ job: 'a' }], 41))).toBe(false);
  });

  it('reads back what it writes, and ignores a malformed header', () => {
    const a = { created: 5, next: 4, uncovered: 2 };
    expect(formatAnnouncedJobs(a)).toBe('created=5, next=4, uncovered=2');
    expect(parseAnnouncedJobs(formatAnnouncedJobs(a))).toEqual(a);
    expect(parseAnnouncedJobs(undefined)).toBeUndefined();
    expect(parseAnnouncedJobs('created=5, next=4')).toBeUndefined();
    expect(parseAnnouncedJobs('created=5, next=-1, uncovered=2')).toBeUndefined();
    expect(parseAnnouncedJobs('created=x, next=4, uncovered=2')).toBeUndefined();
  });

  it('reads the store at most once per refresh span for all runners, and keeps the last figures when a read fails', async () => {
    const clock = createFakeClock();
    let reads = 0;
    let fail = false;
    let items = [job(1, 0, 'running'), job(1, 1, 'created'), job(1, 1, 'created')];
    const store = {
      async listAnnounceableJobs(limit: number) {
        expect(limit).toBe(ANNOUNCE_READ_LIMIT);
        reads++;
        if (fail) throw new Error('database gone');
        return items;
      },
    } as unknown as Store;
    const { logger, records } = captureLogger();
    const announcer = createAnnouncer({ store, clock, logger, refreshMs: 5000 });
    const gpu = { ...untagged, tagList: ['gpu'] };
    expect(await announcer.forRunner(untagged)).toMatchObject({ created: 2, next: 2, uncovered: 1 });
    expect(await announcer.forRunner(gpu)).toMatchObject({ created: 2, next: 2, uncovered: 1 });
    expect(reads).toBe(1);
    items = [job(1, 0, 'running')];
    clock.advance(5000);
    // The span is over: this request gets the last read's figures and starts a new read.
    expect(await announcer.forRunner(untagged)).toMatchObject({ created: 2, next: 2, uncovered: 1 });
    await settle();
    expect(reads).toBe(2);
    expect(await announcer.forRunner(untagged)).toMatchObject({ created: 0, next: 0, uncovered: 0 });
    expect(reads).toBe(2);
    // The next read fails: the last figures stay (not those the store would have given).
    items = [job(2, 1, 'created')];
    fail = true;
    clock.advance(5000);
    await announcer.forRunner(untagged);
    await settle();
    expect(await announcer.forRunner(untagged)).toMatchObject({ created: 0, next: 0, uncovered: 0 });
    expect(reads).toBe(3);
    // The failure is logged once, with its cause.
    const warned = records.filter((r) => r.level === 'warn');
    expect(warned.map((r) => r.msg)).toEqual([
      'reading the announced jobs failed; runners get the last announcement',
    ]);
    expect(JSON.stringify(warned[0]?.err)).toContain('database gone');
  });

  it('with a refresh span of 0, reads once per request, the first one included', async () => {
    let reads = 0;
    const store = {
      listAnnounceableJobs: async () => {
        reads++;
        return [job(1, 0, 'running'), job(1, 1, 'created')];
      },
    } as unknown as Store;
    const announcer = createAnnouncer({
      store,
      clock: createFakeClock(),
      logger: silentLogger(),
      refreshMs: 0,
    });
    await announcer.forRunner(untagged);
    expect(reads).toBe(1);
    await announcer.forRunner(untagged);
    expect(reads).toBe(2);
  });

  it('waits for the store only for the first read: later requests never wait for a slow one', async () => {
    const clock = createFakeClock();
    const pending: ((jobs: AnnounceJob[]) => void)[] = [];
    const store = {
      listAnnounceableJobs: () => new Promise<AnnounceJob[]>((resolve) => pending.push(resolve)),
    } as unknown as Store;
    const announcer = createAnnouncer({ store, clock, logger: silentLogger(), refreshMs: 5000 });
    const firstAnswer = announcer.forRunner(untagged);
    const alsoFirst = announcer.forRunner(untagged);
    expect(pending).toHaveLength(1);
    pending[0]?.([job(1, 0, 'running'), job(1, 1, 'created')]);
    expect(await firstAnswer).toMatchObject({ created: 1, next: 1, uncovered: 0 });
    expect(await alsoFirst).toMatchObject({ created: 1, next: 1, uncovered: 0 });
    clock.advance(5000);
    // The second read hangs: requests meanwhile are answered from the first, and start no other read.
    expect(await announcer.forRunner(untagged)).toMatchObject({ created: 1, next: 1, uncovered: 0 });
    expect(await announcer.forRunner(untagged)).toMatchObject({ created: 1, next: 1, uncovered: 0 });
    expect(pending).toHaveLength(2);
    pending[1]?.([job(1, 1, 'running'), job(1, 2, 'created'), job(1, 2, 'created')]);
    await settle();
    expect(await announcer.forRunner(untagged)).toMatchObject({ created: 2, next: 2, uncovered: 1 });
  });
});

/** Lets a read started in the background finish (the fake stores answer within microtasks). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
