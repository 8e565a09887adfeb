import { describe, expect, it } from 'vitest';

import { endsWithin, stageEndsWithin, uncoveredDueWithin, uncoveredOf } from './due.js';

const S = 1000;
/** Ten measured durations: 10 s, 20 s, …, 100 s. */
const tens = Array.from({ length: 10 }, (_x, i) => (i + 1) * 10 * S);

describe('due times of announced jobs', () => {
  it('a job just pending ends within h with the share of durations ≤ h', () => {
    expect(endsWithin(tens, 0, 30 * S)).toBeCloseTo(0.3);
    expect(endsWithin(tens, 0, 100 * S)).toBe(1);
    expect(endsWithin(tens, 0, 5 * S)).toBe(0);
  });

  it('a job running for e ends within h with P(D ≤ e + h | D > e)', () => {
    // Alive after 45 s: 50 … 100 s (6); of those, ending by 75 s: 50, 60, 70 (3).
    expect(endsWithin(tens, 45 * S, 30 * S)).toBeCloseTo(0.5);
    // Exactly at a duration: the job of 40 s would have ended, 50 … 100 s remain.
    expect(endsWithin(tens, 40 * S, 10 * S)).toBeCloseTo(1 / 6);
  });

  it('a job older than every duration measured, or no duration measured: it may end any time', () => {
    expect(endsWithin(tens, 100 * S, S)).toBe(1);
    expect(endsWithin([], 0, S)).toBe(1);
  });

  it('a stage ends when all its unfinished jobs did', () => {
    const stage = { next: 4, unfinished: 2, elapsedMs: 45 * S };
    expect(stageEndsWithin(tens, stage, 30 * S)).toBeCloseTo(0.25);
    expect(stageEndsWithin(tens, { ...stage, unfinished: 0 }, 0)).toBe(1);
    expect(uncoveredOf(stage)).toBe(2);
    expect(uncoveredOf({ ...stage, unfinished: 5 })).toBe(0);
  });

  it('counts the uncovered jobs expected within the horizon, rounded up', () => {
    const stages = [
      // 2 uncovered, P 0.25: 0.5 expected.
      { next: 4, unfinished: 2, elapsedMs: 45 * S },
      // 3 uncovered, one job just pending, P(D ≤ 30 s) 0.3: 0.9 expected.
      { next: 4, unfinished: 1, elapsedMs: 0 },
      // Covered: its machines serve the next stage.
      { next: 1, unfinished: 3, elapsedMs: 0 },
    ];
    expect(uncoveredDueWithin(stages, tens, 30 * S)).toBe(2);
    // Far ahead every stage has ended: all 5 uncovered jobs.
    expect(uncoveredDueWithin(stages, tens, 1000 * S)).toBe(5);
    // The current stage already over (next stage about to be pending): counted whole.
    expect(uncoveredDueWithin([{ next: 3, unfinished: 0, elapsedMs: 0 }], tens, 0)).toBe(3);
    expect(uncoveredDueWithin([], tens, 30 * S)).toBe(0);
  });
});
