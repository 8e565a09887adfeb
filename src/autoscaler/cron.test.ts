import { describe, expect, it } from 'vitest';

import { cronMatches, parseCron } from './cron.js';

describe('cron periods', () => {
  it.each([
    ['* * * * *', '2026-03-02T10:15:00Z', 'UTC', true],
    ['* 9-17 * * mon-fri', '2026-03-02T10:15:00Z', 'UTC', true],
    ['* 9-17 * * mon-fri', '2026-03-01T10:15:00Z', 'UTC', false],
    ['* 9-17 * * mon-fri', '2026-03-02T08:15:00Z', 'UTC', false],
    ['* 9-17 * * mon-fri', '2026-03-02T08:15:00Z', 'Europe/Berlin', true],
    ['*/15 * * * *', '2026-03-02T10:30:00Z', 'UTC', true],
    ['*/15 * * * *', '2026-03-02T10:31:00Z', 'UTC', false],
    ['0 0 1 jan *', '2026-01-01T00:00:00Z', 'UTC', true],
    ['* * 1 * sun', '2026-03-08T00:00:00Z', 'UTC', true],
    ['* * * * 7', '2026-03-08T00:00:00Z', 'UTC', true],
  ])('%s at %s (%s) → %s', (expr, at, tz, expected) => {
    expect(cronMatches(parseCron(expr), new Date(at), tz)).toBe(expected);
  });

  it.each(['* * * *', '61 * * * *', '* * * * fri-mon', '*/0 * * * *'])('rejects %s', (expr) => {
    expect(() => parseCron(expr)).toThrow(expr);
  });
});
