import { describe, expect, it } from 'vitest';

import { actionsByHour, selectDays, withoutReadySlot } from './autoscale.js';

const all = [{ name: 'normal' }, { name: 'outage' }, { name: 'flat' }];

describe('the autoscale part’s --days', () => {
  it('runs every day without it, and the named ones in the suite’s order with it', () => {
    expect(selectDays(all).map((d) => d.name)).toEqual(['normal', 'outage', 'flat']);
    expect(selectDays(all, ['flat', 'normal']).map((d) => d.name)).toEqual(['normal', 'flat']);
  });

  it('refuses a day it does not know, naming the known ones', () => {
    expect(() => selectDays(all, ['nromal'])).toThrow('unknown day(s) nromal; days: normal, outage, flat');
  });
});

describe('the autoscale part’s hourly figures', () => {
  it('sums every reason of one action per hour', () => {
    const byHour: Record<string, number>[] = [
      { 'create:predicted_demand': 3, 'create:waiting_jobs': 2, 'remove:above_predicted_demand': 4 },
      {},
      { 'remove:ready_failed': 1, 'remove:above_predicted_demand': 1 },
    ];
    expect(actionsByHour(byHour, 'create')).toEqual([5, 0, 0]);
    expect(actionsByHour(byHour, 'remove')).toEqual([4, 0, 2]);
  });

  it('counts the jobs without a ready slot on arrival, and the late ones among them', () => {
    const r = { waits: [0, 70, 40, 80, 90], noReadySlot: [false, true, true, true, false] };
    expect(withoutReadySlot(r, 56)).toEqual([3, 2]);
    expect(withoutReadySlot({ waits: [90] }, 56)).toEqual([0, 0]);
  });
});
