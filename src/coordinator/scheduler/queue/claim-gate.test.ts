import { describe, expect, it, vi } from 'vitest';

import { ClaimGate, type ClaimRelease } from './claim-gate.js';

/** A gate whose turns run only when the test says so. */
function manualGate(perTurn: number, inFlight: number) {
  const turns: (() => void)[] = [];
  const gate = new ClaimGate({ perTurn, inFlight, schedule: (turn) => turns.push(turn) });
  const started: number[] = [];
  const releases = new Map<number, ClaimRelease>();
  const enter = (n: number): void => {
    void gate.enter().then((release) => {
      started.push(n);
      releases.set(n, release);
    });
  };
  /** Runs the one scheduled turn (there is never more than one) and lets its claims start. */
  const turn = async (): Promise<void> => {
    const next = turns.shift();
    expect(next).toBeDefined();
    next?.();
    await new Promise((r) => setImmediate(r));
  };
  return { gate, turns, started, releases, enter, turn };
}

describe('ClaimGate', () => {
  it('starts the first claim of a turn at once when none waits, the next one in a later turn', async () => {
    const g = manualGate(4, 4);
    g.enter(1);
    g.enter(2);
    await new Promise((r) => setImmediate(r));
    expect(g.started).toEqual([1]);
    expect(g.gate.waiting).toBe(1);
    expect(g.turns).toHaveLength(1);
    await g.turn();
    expect(g.started).toEqual([1, 2]);
    expect(g.gate.running).toBe(2);
    // A new turn: the first claim asked for starts at once again.
    g.enter(3);
    await new Promise((r) => setImmediate(r));
    expect(g.started).toEqual([1, 2, 3]);
  });

  it('starts a claim at once in every turn, not only the first', async () => {
    const g = manualGate(4, 4);
    for (let n = 1; n <= 3; n++) {
      g.enter(n);
      await new Promise((r) => setImmediate(r));
      expect(g.started).toHaveLength(n);
      g.releases.get(n)?.();
      await g.turn();
    }
    expect(g.turns).toHaveLength(0);
    expect(g.gate.running).toBe(0);
  });

  it('starts no claim at once while others wait: arrival order holds', async () => {
    const g = manualGate(1, 4);
    g.enter(1);
    g.enter(2);
    g.enter(3);
    await g.turn();
    expect(g.started).toEqual([1, 2]);
    // 3 still waits: a claim asked for now queues behind it, even in a new turn.
    g.enter(4);
    await new Promise((r) => setImmediate(r));
    expect(g.started).toEqual([1, 2]);
    await g.turn();
    await g.turn();
    expect(g.started).toEqual([1, 2, 3, 4]);
  });

  it('starts at most perTurn claims per turn, in arrival order', async () => {
    const g = manualGate(2, 10);
    for (let n = 0; n <= 5; n++) g.enter(n);
    await g.turn();
    expect(g.started).toEqual([0, 1, 2]);
    // The rest gets the next turns without any release (the in-flight bound is not reached).
    expect(g.turns).toHaveLength(1);
    await g.turn();
    expect(g.started).toEqual([0, 1, 2, 3, 4]);
    await g.turn();
    expect(g.started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(g.turns).toHaveLength(0);
    expect(g.gate.waiting).toBe(0);
  });

  it('keeps at most inFlight claims started; a release plans the next turn', async () => {
    const g = manualGate(10, 2);
    for (let n = 1; n <= 4; n++) g.enter(n);
    await g.turn();
    expect(g.started).toEqual([1, 2]);
    expect(g.gate.running).toBe(2);
    expect(g.turns).toHaveLength(0);
    g.releases.get(1)?.();
    expect(g.gate.running).toBe(1);
    expect(g.turns).toHaveLength(1);
    await g.turn();
    expect(g.started).toEqual([1, 2, 3]);
    expect(g.turns).toHaveLength(0);
  });

  it('counts a release once however often it is called', async () => {
    const g = manualGate(1, 1);
    g.enter(1);
    g.enter(2);
    g.enter(3);
    await new Promise((r) => setImmediate(r));
    expect(g.started).toEqual([1]);
    await g.turn();
    expect(g.started).toEqual([1]);
    const release = g.releases.get(1);
    release?.();
    release?.();
    expect(g.gate.running).toBe(0);
    await g.turn();
    expect(g.started).toEqual([1, 2]);
    expect(g.gate.running).toBe(1);
    expect(g.turns).toHaveLength(0);
  });

  it('schedules one turn however many claims wait', async () => {
    const g = manualGate(4, 4);
    for (let n = 0; n <= 100; n++) g.enter(n);
    expect(g.turns).toHaveLength(1);
    await g.turn();
    expect(g.started).toEqual([0, 1, 2, 3]);
    expect(g.turns).toHaveLength(0);
    for (let n = 0; n <= 3; n++) g.releases.get(n)?.();
    expect(g.turns).toHaveLength(1);
  });

  it('serves every waiting claim in order through many turns and releases', async () => {
    const g = manualGate(3, 3);
    for (let n = 1; n <= 2000; n++) g.enter(n);
    await new Promise((r) => setImmediate(r));
    while (g.turns.length > 0 || g.releases.size > 0) {
      for (const [n, release] of g.releases) {
        release();
        g.releases.delete(n);
      }
      if (g.turns.length > 0) await g.turn();
    }
    expect(g.started).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    expect(g.gate.waiting).toBe(0);
    expect(g.gate.running).toBe(0);
  });

  it('runs its turns on setImmediate by default', async () => {
    const gate = new ClaimGate();
    const first = await gate.enter();
    const second = gate.enter();
    expect(gate.waiting).toBe(1);
    first();
    (await second)();
    expect(gate.running).toBe(0);
    expect(gate.waiting).toBe(0);
  });

  it('bounded(): starts claims at once up to the bound, then one per release, in arrival order', async () => {
    const schedule = vi.fn();
    const gate = new ClaimGate({ perTurn: 1, inFlight: 2, atOnce: true, schedule });
    const [a, b] = await Promise.all([gate.enter(), gate.enter()]);
    const order: string[] = [];
    const c = gate.enter().then((r) => (order.push('c'), r));
    const d = gate.enter().then((r) => (order.push('d'), r));
    expect(gate.running).toBe(2);
    expect(gate.waiting).toBe(2);
    a?.();
    a?.(); // a second release gives nothing back
    expect(gate.running).toBe(2);
    expect(gate.waiting).toBe(1);
    b?.();
    const [rc, rd] = await Promise.all([c, d]);
    expect(order).toEqual(['c', 'd']);
    rc();
    rd();
    expect(gate.running).toBe(0);
    // No turn of the event loop is ever scheduled.
    expect(schedule).not.toHaveBeenCalled();
  });
});
