import { describe, expect, it } from 'vitest';

import { selectDays } from './autoscale.js';

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
