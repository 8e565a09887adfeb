import { describe, expect, it } from 'vitest';

import { RunnerQueue, type QueueBus, type QueueMessage } from './runner-queue.js';

/** Buses of several coordinators on one channel: a message reaches every other member. */
function channel(): () => QueueBus & { sent: QueueMessage[] } {
  const members: { handlers: ((m: QueueMessage) => void)[] }[] = [];
  return () => {
    const self = { handlers: [] as ((m: QueueMessage) => void)[] };
    members.push(self);
    const sent: QueueMessage[] = [];
    return {
      sent,
      publish(m) {
        sent.push(m);
        for (const other of members) if (other !== self) for (const h of other.handlers) h(m);
      },
      subscribe(h) {
        self.handlers.push(h);
      },
    };
  };
}

const untagged = { tagList: [], runUntagged: true, accessLevel: 'not_protected' as const };
const tagged = { tagList: ['gpu'], runUntagged: false, accessLevel: 'not_protected' as const };
const never = new AbortController().signal;

describe('RunnerQueue over a bus', () => {
  it('wakes a runner held by another coordinator when a matching job is queued', async () => {
    const join = channel();
    const a = new RunnerQueue(join());
    const b = new RunnerQueue(join());
    const before = b.version(1, untagged);
    b.version(2, tagged);
    const held = b.wait(1, 60_000, never);
    a.jobsQueued([{ tagList: [], protected: false }]);
    expect(await held).toBe(true);
    expect(b.version(1, untagged)).not.toBe(before);
  });

  it('does not wake runners the job does not match, and never sends a received message again', () => {
    const join = channel();
    const busA = join();
    const busB = join();
    const a = new RunnerQueue(busA);
    const b = new RunnerQueue(busB);
    const gpu = b.version(2, tagged);
    a.jobsQueued([{ tagList: [], protected: false }]);
    expect(b.version(2, tagged)).toBe(gpu);
    expect(busB.sent).toEqual([]);
    expect(busA.sent).toEqual([{ kind: 'jobs', jobs: [{ tagList: [], protected: false }] }]);
  });

  it("passes a runner's own version change on, and 'all' changes every runner's version", () => {
    const join = channel();
    const a = new RunnerQueue(join());
    const busB = join();
    const b = new RunnerQueue(busB);
    const one = b.version(1, untagged);
    const two = b.version(2, tagged);
    a.bump(1);
    expect(b.version(1, untagged)).not.toBe(one);
    expect(b.version(2, tagged)).toBe(two);
    const c = join();
    c.publish({ kind: 'all' });
    expect(b.version(2, tagged)).not.toBe(two);
  });
});
