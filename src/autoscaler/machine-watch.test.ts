import { describe, expect, it } from 'vitest';

import { systemClock } from '../shared/clock.js';
import { isFlotillaError } from '../shared/errors.js';
import { MachineLostError, whileAlive, type LivenessOptions } from './machine-watch.js';
import type { ConnectInfo } from './providers/provider.js';
import type { Lease } from './taskscaler.js';

function fakeLease(): Lease & { lost: boolean } {
  const connect: ConnectInfo = {
    id: 'm-1',
    internalAddr: '10.0.0.2',
    externalAddr: '10.0.0.2',
    dockerHost: 'tcp://10.0.0.2:2375',
  };
  return { key: 'p/m-1', connect, lost: false, started: () => undefined, release: () => undefined };
}

function options(answers: () => boolean): LivenessOptions & { pings: number } {
  const o = {
    clock: systemClock,
    intervalMs: 10,
    timeoutMs: 10,
    failures: 3,
    pings: 0,
    ping: async () => {
      o.pings++;
      if (!answers()) throw new Error('connect ECONNREFUSED');
    },
  };
  return o;
}

/** Work that only ends when its signal is aborted (like a wait on a dead engine that never does). */
const hangs = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted late'))));

describe('whileAlive', () => {
  it('returns the work result while the engine answers, and stops pinging after', async () => {
    const o = options(() => true);
    const result = await whileAlive(o, fakeLease(), new AbortController().signal, async () => {
      await new Promise((r) => setTimeout(r, 60));
      return 'done';
    });
    expect(result).toBe('done');
    expect(o.pings).toBeGreaterThan(0);
    const after = o.pings;
    await new Promise((r) => setTimeout(r, 50));
    expect(o.pings).toBe(after);
  });

  it('rejects with FLO_ERR_MACHINE_LOST after `failures` missed pings in a row, and aborts the work', async () => {
    let n = 0;
    const o = options(() => ++n % 3 === 0 && n < 4); // one answer among the first misses resets the count
    let workSignal: AbortSignal | undefined;
    const err: unknown = await whileAlive(o, fakeLease(), new AbortController().signal, (signal) => {
      workSignal = signal;
      return hangs(signal);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MachineLostError);
    expect(isFlotillaError(err, 'FLO_ERR_MACHINE_LOST')).toBe(true);
    expect((err as Error).message).toBe(
      'machine m-1 was lost: its Docker Engine did not answer 3 pings in a row (connect ECONNREFUSED)',
    );
    expect(o.pings).toBe(6);
    expect(workSignal?.aborted).toBe(true);
  });

  it('rejects at once when the taskscaler finds the machine gone', async () => {
    const lease = fakeLease();
    setTimeout(() => (lease.lost = true), 30);
    await expect(
      whileAlive(
        options(() => true),
        lease,
        new AbortController().signal,
        hangs,
      ),
    ).rejects.toThrow('machine m-1 was lost: the provider reports it gone');
  });

  it('passes the outer abort to the work, which rejects with its own reason', async () => {
    const outer = new AbortController();
    setTimeout(() => outer.abort(new Error('canceled')), 20);
    await expect(
      whileAlive(
        options(() => true),
        fakeLease(),
        outer.signal,
        (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      ),
    ).rejects.toThrow('canceled');
  });
});
