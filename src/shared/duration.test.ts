import { describe, expect, it } from 'vitest';

import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    // GitLab's `artifacts:expire_in` examples (ChronicDuration).
    ['42', 42],
    ['42 seconds', 42],
    ['3 mins 4 sec', 184],
    ['2 hrs 20 min', 8400],
    ['2h20min', 8400],
    ['6 mos 1 day', 6 * 30 * 86400 + 86400],
    ['47 yrs 6 mos and 4d', 47 * 31_557_600 + 6 * 30 * 86400 + 4 * 86400],
    ['3 weeks and 2 days', 3 * 604800 + 2 * 86400],
    ['1 week', 604800],
    ['1 year', 31_557_600],
    // Go durations from config.toml.
    ['1h30m0s', 5400],
    ['20m0s', 1200],
    ['1.5h', 5400],
    ['300ms', 0.3],
    [90, 90],
  ])('%j is %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBeCloseTo(seconds, 6);
  });

  it.each(['soon', '1 fortnight', '', 'h1', '1h soon'])('refuses %j naming it', (text) => {
    expect(() => parseDuration(text)).toThrow(`"${text}" is not a duration`);
  });

  it.each([
    [0, '0s'],
    [59, '59s'],
    [61, '1m1s'],
    [3600, '1h0m0s'],
    [5430, '1h30m30s'],
  ])('formats %d as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
