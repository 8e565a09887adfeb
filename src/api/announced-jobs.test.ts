import { describe, expect, it } from 'vitest';

import { aged, formatAnnouncedStages, MAX_ANNOUNCED_STAGES, parseAnnouncedStages } from './announced-jobs.js';

const S = 1000;

describe('X-Flotilla-Announced-Stages', () => {
  it('lists the stages with uncovered jobs, the oldest first, in whole seconds, and reads them back', () => {
    const stages = [
      { next: 3, unfinished: 1, elapsedMs: 12_500 },
      { next: 1, unfinished: 2, elapsedMs: 90_000 },
      { next: 2, unfinished: 0, elapsedMs: 40_000 },
    ];
    const header = formatAnnouncedStages(stages);
    expect(header).toBe('2/0/40, 3/1/12');
    expect(parseAnnouncedStages(header)).toEqual([
      { next: 2, unfinished: 0, elapsedMs: 40_000 },
      { next: 3, unfinished: 1, elapsedMs: 12_000 },
    ]);
  });

  it('sends at most MAX_ANNOUNCED_STAGES', () => {
    const many = Array.from({ length: MAX_ANNOUNCED_STAGES + 5 }, (_x, i) => ({
      next: 2,
      unfinished: 1,
      elapsedMs: i * 1000,
    }));
    const parsed = parseAnnouncedStages(formatAnnouncedStages(many));
    expect(parsed).toHaveLength(MAX_ANNOUNCED_STAGES);
    expect(parsed?.[0]?.elapsedMs).toBe((MAX_ANNOUNCED_STAGES + 4) * 1000);
  });

  it('an empty value is no stage; an absent or malformed one is unknown', () => {
    expect(parseAnnouncedStages('')).toEqual([]);
    expect(parseAnnouncedStages(null)).toBeUndefined();
    expect(parseAnnouncedStages('2/1')).toBeUndefined();
    expect(parseAnnouncedStages('2/1/-3')).toBeUndefined();
    expect(parseAnnouncedStages('2/1/3,')).toBeUndefined();
  });
  it('ages an announcement by the time since its stages were taken', () => {
    const a = {
      created: 2,
      next: 2,
      uncovered: 1,
      stages: [{ next: 2, unfinished: 1, elapsedMs: 5 * S }],
      atMs: 100 * S,
    };
    expect(aged(a, 130 * S)?.stages).toEqual([{ next: 2, unfinished: 1, elapsedMs: 35 * S }]);
    expect(aged(a, 100 * S)).toBe(a);
    const { atMs: _at, ...unstamped } = a;
    expect(aged(unstamped, 130 * S)).toBe(unstamped);
    expect(aged(undefined, 0)).toBeUndefined();
  });
});
