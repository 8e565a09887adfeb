import { describe, expect, it } from 'vitest';

import { LockedRuns } from './locked-runs.js';

describe('LockedRuns', () => {
  it('says nothing ran when no run of the pipeline started since the mark', () => {
    const runs = new LockedRuns(10);
    runs.started(1);
    const mark = runs.mark(1, false);
    runs.started(2);
    expect(runs.noneSince(mark)).toBe(true);
    runs.started(1);
    expect(runs.noneSince(mark)).toBe(false);
  });

  it('says something ran when the lock was busy at the mark', () => {
    const runs = new LockedRuns(10);
    expect(runs.noneSince(runs.mark(1, true))).toBe(false);
  });

  it('says something ran once the per-pipeline numbers were forgotten', () => {
    const runs = new LockedRuns(2);
    const mark = runs.mark(1, false);
    runs.started(2);
    runs.started(3);
    runs.started(4);
    expect(runs.noneSince(mark)).toBe(false);
  });
});
