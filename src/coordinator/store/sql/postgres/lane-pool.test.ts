import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PostgresPoolClient } from 'kysely';
import { LanePool, type InnerPool } from './lane-pool.js';

/** A pg-like pool of `max` clients that records checkouts, releases and whether it ended. */
function fakeInner() {
  let next = 0;
  const released: (boolean | undefined)[] = [];
  const state = { ended: 0, checkouts: 0, failNext: false };
  const inner: InnerPool = {
    connect: () => {
      if (state.failNext) {
        state.failNext = false;
        return Promise.reject(new Error('connect ECONNREFUSED'));
      }
      state.checkouts++;
      const id = ++next;
      const client = {
        id,
        query: () => Promise.reject(new Error('not used')),
        release: (destroy?: boolean) => void released.push(destroy),
      };
      return Promise.resolve(client as unknown as PostgresPoolClient);
    },
    end: () => {
      state.ended++;
      return Promise.resolve();
    },
  };
  return { inner, released, state };
}

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('LanePool', () => {
  it('destroys a client reported broken on release, and gives its permit back', async () => {
    const { inner, released, state } = fakeInner();
    const broken = new Set<unknown>();
    const pool = new LanePool(inner, 1, 10_000, (client) => broken.has(client));
    const first = await pool.connect('update');
    broken.add(first);
    first.release();
    const second = await pool.connect('claim');
    second.release();
    expect(released).toEqual([true, undefined]);
    expect(state.checkouts).toBe(2);
  });

  it('hands out connections at once while permits last, in either lane', async () => {
    const { inner, state } = fakeInner();
    const pool = new LanePool(inner, 2, 10_000);
    await pool.connect('claim');
    await pool.connect('update');
    expect(state.checkouts).toBe(2);
    expect(pool.waiting('claim') + pool.waiting('update')).toBe(0);
  });

  it('serves a waiting update before claims that waited longer', async () => {
    const { inner } = fakeInner();
    const pool = new LanePool(inner, 1, 10_000);
    const holder = await pool.connect('claim');
    const order: string[] = [];
    const claims = [1, 2].map((n) => pool.connect('claim').then((c) => (order.push(`claim${n}`), c)));
    const update = pool.connect('update').then((c) => (order.push('update'), c));
    await settle();
    expect(pool.waiting('claim')).toBe(2);
    expect(pool.waiting('update')).toBe(1);

    holder.release();
    (await update).release();
    (await claims[0])?.release();
    await claims[1];
    expect(order).toEqual(['update', 'claim1', 'claim2']);
  });

  it('gives a permit back once however often a client is released, and passes destroy on', async () => {
    const { inner, released } = fakeInner();
    const pool = new LanePool(inner, 1, 10_000);
    const client = await pool.connect('update');
    const waiting = [pool.connect('claim'), pool.connect('claim')];
    await settle();
    client.release(true);
    client.release(true);
    await settle();
    expect(released).toEqual([true]);
    expect(pool.waiting('claim')).toBe(1);
    (await waiting[0])?.release();
    await waiting[1];
  });

  it('gives the permit back when opening a connection fails', async () => {
    const { inner, state } = fakeInner();
    const pool = new LanePool(inner, 1, 10_000);
    state.failNext = true;
    await expect(pool.connect('update')).rejects.toThrow('ECONNREFUSED');
    const client = await pool.connect('claim');
    expect(state.checkouts).toBe(1);
    client.release();
  });

  it('ends the shared pool once from either lane', async () => {
    const { inner, state } = fakeInner();
    const pool = new LanePool(inner, 4, 10_000);
    await Promise.all([pool.lane('update').end(), pool.lane('claim').end()]);
    expect(state.ended).toBe(1);
  });

  describe('waiting', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('fails a request that waited too long, as pg did, and the next one still gets the connection', async () => {
      vi.useFakeTimers();
      const { inner } = fakeInner();
      const pool = new LanePool(inner, 1, 5_000);
      const holder = await pool.connect('update');
      const late = pool.connect('claim');
      const settled = late.then(
        () => 'connected',
        (err: unknown) => (err as Error).message,
      );
      await vi.advanceTimersByTimeAsync(5_000);
      expect(await settled).toMatch(/^timeout exceeded when trying to connect/);
      expect(pool.waiting('claim')).toBe(0);
      const next = pool.connect('update');
      holder.release();
      await next;
      expect(pool.waiting('update')).toBe(0);
    });

    it('gives the permit back even when the inner release throws', async () => {
      const broken = {
        query: () => Promise.reject(new Error('not used')),
        release: () => {
          throw new Error('broken');
        },
      };
      const inner: InnerPool = {
        connect: () => Promise.resolve(broken as unknown as PostgresPoolClient),
        end: () => Promise.resolve(),
      };
      const pool = new LanePool(inner, 1, 10_000);
      const client = await pool.connect('claim');
      expect(() => client.release()).toThrow('broken');
      // The one permit came back: the next request connects at once.
      await pool.connect('update');
      expect(pool.waiting('update')).toBe(0);
    });
  });
});
