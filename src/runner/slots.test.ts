import { describe, expect, it } from 'vitest';

import { createSlots } from './slots.js';

describe('slots', () => {
  it('gives a received job the lowest id freed while its request was in flight', () => {
    const slots = createSlots(4);
    const owner = { used: new Set<number>() };
    expect(slots.acquire(owner, 0)).toBe(0);
    expect(slots.acquire(owner, 0)).toBe(1);
    slots.release(owner, 0);
    expect(slots.settle(owner, 1)).toBe(0);
    expect([...owner.used]).toEqual([0]);
    expect(slots.inUse).toBe(1);
    expect(slots.acquire(owner, 0)).toBe(1);
    expect(slots.settle(owner, 1)).toBe(1);
    expect([...owner.used].sort()).toEqual([0, 1]);
  });

  it('keeps the id when no lower one is free, and ids taken by others stay theirs', () => {
    const slots = createSlots(4);
    const owner = { used: new Set<number>() };
    const other = { used: new Set<number>() };
    expect(slots.acquire(other, 0)).toBe(0);
    expect(slots.acquire(owner, 0)).toBe(0);
    expect(slots.settle(owner, 0)).toBe(0);
    expect(slots.acquire(owner, 0)).toBe(1);
    expect(slots.acquire(owner, 0)).toBe(2);
    slots.release(owner, 1);
    expect(slots.settle(owner, 2)).toBe(1);
    expect([...owner.used].sort()).toEqual([0, 1]);
    expect(slots.inUse).toBe(3);
  });
});
