import { describe, expect, it } from 'vitest';

import { EMPTY_FOR_MS, RunnerQueue } from './runner-queue.js';

const untagged = { tagList: [], runUntagged: true, accessLevel: 'not_protected' as const };

function held(queue: RunnerQueue, runnerId: number): { woken: boolean | null } {
  const state: { woken: boolean | null } = { woken: null };
  const abort = new AbortController();
  void queue.wait(runnerId, 60_000, abort.signal).then((w) => {
    state.woken = w;
  });
  return state;
}

describe('RunnerQueue after a claim', () => {
  it('answers a claim with a version that is never current, without moving the version', () => {
    const queue = new RunnerQueue();
    const version = queue.version(1, untagged);
    const answered = queue.afterClaim(version);
    expect(answered).not.toBe(version);
    expect(queue.version(1, untagged)).toBe(version);
    queue.jobsQueued([{ tagList: [], protected: false }]);
    expect(queue.version(1, untagged)).not.toBe(answered);
  });

  it('wakes one held request of the runner, not all of them', async () => {
    const queue = new RunnerQueue();
    queue.version(1, untagged);
    const a = held(queue, 1);
    const b = held(queue, 1);
    expect(queue.waiting).toBe(2);
    queue.wakeOne(1);
    await Promise.resolve();
    expect([a.woken, b.woken].filter((w) => w === true)).toHaveLength(1);
    expect(queue.waiting).toBe(1);
    queue.wakeOne(2);
    expect(queue.waiting).toBe(1);
    queue.wakeAll();
    await Promise.resolve();
    expect(queue.waiting).toBe(0);
  });

  it('holds no request once every request was woken for the shutdown', async () => {
    const queue = new RunnerQueue();
    queue.version(1, untagged);
    queue.wakeAll();
    const late = held(queue, 1);
    await Promise.resolve();
    expect(late.woken).toBe(false);
    expect(queue.waiting).toBe(0);
  });

  it('remembers an empty claim for the version it was made at, briefly', () => {
    let now = 0;
    const queue = new RunnerQueue(undefined, () => now);
    const before = queue.beforeClaim(1, untagged);
    queue.foundNothing(1, before);
    expect(queue.knownEmpty(1)).toBe(true);
    expect(queue.knownEmpty(2)).toBe(false);
    now = EMPTY_FOR_MS;
    expect(queue.knownEmpty(1)).toBe(false);

    queue.foundNothing(1, before);
    queue.jobsQueued([{ tagList: [], protected: false }]);
    expect(queue.knownEmpty(1)).toBe(false);
    // A claim made before a job was queued says nothing about the version after it.
    queue.foundNothing(1, before);
    expect(queue.knownEmpty(1)).toBe(false);

    queue.foundNothing(1, queue.beforeClaim(1, untagged));
    queue.wakeOne(1);
    expect(queue.knownEmpty(1)).toBe(false);
  });

  it('lets an empty claim answer for the runners that may take exactly the same jobs', () => {
    let now = 0;
    const queue = new RunnerQueue(undefined, () => now);
    const gpu = { tagList: ['gpu', 'linux'], runUntagged: false, accessLevel: 'not_protected' as const };
    const gpuAgain = { ...gpu, tagList: ['linux', 'gpu', 'gpu'] };
    const protectedGpu = { ...gpu, accessLevel: 'ref_protected' as const };
    queue.version(2, gpuAgain);
    queue.version(3, protectedGpu);
    queue.foundNothing(1, queue.beforeClaim(1, gpu), gpu);
    expect(queue.knownEmpty(2, gpuAgain)).toBe(true);
    expect(queue.knownEmpty(3, protectedGpu)).toBe(false);
    expect(queue.knownEmpty(4, untagged)).toBe(false);
    now = EMPTY_FOR_MS;
    expect(queue.knownEmpty(2, gpuAgain)).toBe(false);

    // Any job queued (whatever runner it is for, here or on another coordinator) ends the mark.
    queue.foundNothing(1, queue.beforeClaim(1, gpu), gpu);
    queue.jobsQueued([{ tagList: ['other'], protected: false }]);
    expect(queue.knownEmpty(2, gpuAgain)).toBe(false);
    // So does any runner's version change, and a claim that found a job.
    queue.foundNothing(1, queue.beforeClaim(1, gpu), gpu);
    queue.bump(7);
    expect(queue.knownEmpty(2, gpuAgain)).toBe(false);
    queue.foundNothing(1, queue.beforeClaim(1, gpu), gpu);
    queue.wakeOne(5);
    expect(queue.knownEmpty(2, gpuAgain)).toBe(false);
    // A claim read before a job was queued marks nothing.
    const stale = queue.beforeClaim(1, gpu);
    queue.jobsQueued([{ tagList: ['gpu'], protected: false }]);
    queue.foundNothing(1, stale, gpu);
    expect(queue.knownEmpty(2, gpuAgain)).toBe(false);
  });
});
