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

  it('remembers an empty claim for the version it was made at, briefly', () => {
    let now = 0;
    const queue = new RunnerQueue(undefined, () => now);
    const version = queue.version(1, untagged);
    queue.foundNothing(1, version);
    expect(queue.knownEmpty(1)).toBe(true);
    expect(queue.knownEmpty(2)).toBe(false);
    now = EMPTY_FOR_MS;
    expect(queue.knownEmpty(1)).toBe(false);

    queue.foundNothing(1, version);
    queue.jobsQueued([{ tagList: [], protected: false }]);
    expect(queue.knownEmpty(1)).toBe(false);
    // A claim made before a job was queued says nothing about the version after it.
    queue.foundNothing(1, version);
    expect(queue.knownEmpty(1)).toBe(false);

    queue.foundNothing(1, queue.version(1, untagged));
    queue.wakeOne(1);
    expect(queue.knownEmpty(1)).toBe(false);
  });
});
