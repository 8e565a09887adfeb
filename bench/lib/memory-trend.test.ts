import { describe, expect, it } from 'vitest';

import {
  describeTrend,
  markCompactAfterMiB,
  memoryTrend,
  slopePer1000,
  type MemorySample,
} from './memory-trend.js';

const sample = (jobs: number, retainedMiB: number | null, rssMiB = 150): MemorySample => ({
  s: jobs / 10,
  jobs,
  rssMiB,
  heapUsedMiB: 60,
  retainedMiB,
});

describe('memory trend', () => {
  it('reads the heap after a mark-compact from a --trace-gc line, and nothing else', () => {
    const line =
      '[15847:0x258c1b50]      259 ms: Mark-Compact 57.1 (74.2) -> 46.8 (81.3) MB, 21.91 / 0.00 ms  (average mu = 1.000) testing; GC in old space requested';
    expect(markCompactAfterMiB(line)).toBe(46.8);
    expect(
      markCompactAfterMiB('[1:0x1]  12 ms: Mark-Compact (reduce) 40.0 (50.0) -> 38.5 (49.0) MB, 3 ms'),
    ).toBe(38.5);
    expect(markCompactAfterMiB('[1:0x1]  12 ms: Scavenge 40.0 (50.0) -> 38.5 (49.0) MB, 3 ms')).toBeNull();
  });

  it('gives the slope per 1,000 jobs by least squares, skipping missing values', () => {
    const samples = [sample(0, null), sample(1000, 40), sample(2000, 42), sample(3000, 44)];
    expect(slopePer1000(samples, 'retainedMiB')).toBeCloseTo(2, 6);
    expect(slopePer1000(samples, 'rssMiB')).toBe(0);
    expect(slopePer1000([sample(0, 1)], 'retainedMiB')).toBeNull();
  });

  it('calls a run flat when the retained heap does not grow over the second half', () => {
    const flat = Array.from({ length: 11 }, (_, i) => sample(i * 1000, i < 5 ? 30 + i * 3 : 45 + (i % 2)));
    const t = memoryTrend(flat);
    expect(t.flat).toBe(true);
    expect(t.start?.jobs).toBe(0);
    expect(t.middle?.jobs).toBe(5000);
    expect(t.end?.jobs).toBe(10_000);
    expect(describeTrend(t).at(-1)).toMatch(/^FLAT/);
  });

  it('calls a steady growth of 1 MiB per 1,000 jobs not flat', () => {
    const leaking = Array.from({ length: 11 }, (_, i) => sample(i * 1000, 40 + i));
    const t = memoryTrend(leaking);
    expect(t.flat).toBe(false);
    expect(t.slopes.retainedMiB.secondHalf).toBeCloseTo(1, 6);
    expect(describeTrend(t).at(-1)).toMatch(/^NOT FLAT: retained heap \+1\.00/);
  });

  it('says unknown without any full GC', () => {
    expect(memoryTrend([sample(0, null), sample(10, null)]).flat).toBeNull();
  });
});
