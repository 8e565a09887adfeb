import { describe, expect, it } from 'vitest';

import { cronMatches, parseCron } from './cron.js';

type Case = [period: string, at: string, timeZone: string, matches: boolean];

/** gitlab-runner's `[[runners.autoscaler.policy]] periods` examples, in UTC. */
const GITLAB_RUNNER: Case[] = [
  ['* * * * *', '2026-03-02T10:15:00Z', 'UTC', true],
  ['* 8-17 * * mon-fri', '2026-03-02T08:00:00Z', 'UTC', true],
  ['* 8-17 * * mon-fri', '2026-03-02T17:59:59Z', 'UTC', true],
  ['* 8-17 * * mon-fri', '2026-03-02T18:00:00Z', 'UTC', false],
  ['* 8-17 * * mon-fri', '2026-03-02T07:59:00Z', 'UTC', false],
  ['* 8-17 * * mon-fri', '2026-03-07T10:00:00Z', 'UTC', false],
  ['* 8-15 * * mon-fri', '2026-03-06T15:30:00Z', 'UTC', true],
  ['* 8-15 * * mon-fri', '2026-03-06T16:00:00Z', 'UTC', false],
  ['* * * * sat,sun', '2026-03-07T03:00:00Z', 'UTC', true],
  ['* * * * sat,sun', '2026-03-09T03:00:00Z', 'UTC', false],
  ['* 9-17 * * mon-fri', '2026-03-02T08:15:00Z', 'Europe/Berlin', true],
  ['* 9-17 * * mon-fri', '2026-03-02T08:15:00Z', 'UTC', false],
  ['*/15 * * * *', '2026-03-02T10:30:00Z', 'UTC', true],
  ['*/15 * * * *', '2026-03-02T10:30:45Z', 'UTC', true],
  ['*/15 * * * *', '2026-03-02T10:31:00Z', 'UTC', false],
  ['0 0 1 jan *', '2026-01-01T00:00:00Z', 'UTC', true],
  ['* * 1 * sun', '2026-03-08T00:00:00Z', 'UTC', true],
  ['* * 1 * sun', '2026-03-09T00:00:00Z', 'UTC', false],
  ['* * * * 7', '2026-03-08T00:00:00Z', 'UTC', true],
  ['* * * * 0', '2026-03-08T00:00:00Z', 'UTC', true],
];

/**
 * DST changes in 2026. Europe/Berlin: 29 March 02:00 CET → 03:00 CEST (01:00 UTC), 25 October
 * 03:00 CEST → 02:00 CET (01:00 UTC). America/New_York: 8 March 02:00 EST → 03:00 EDT (07:00 UTC),
 * 1 November 02:00 EDT → 01:00 EST (06:00 UTC).
 */
const DST: Case[] = [
  // Berlin, spring: 02:xx never happens; office hours follow the wall clock.
  ['30 1 * * *', '2026-03-29T00:30:00Z', 'Europe/Berlin', true],
  ['* 2 * * *', '2026-03-29T00:59:00Z', 'Europe/Berlin', false],
  ['* 2 * * *', '2026-03-29T01:00:00Z', 'Europe/Berlin', false],
  ['* 3 * * *', '2026-03-29T01:00:00Z', 'Europe/Berlin', true],
  ['* 8-17 * * mon-fri', '2026-03-27T06:30:00Z', 'Europe/Berlin', false],
  ['* 8-17 * * mon-fri', '2026-03-30T06:30:00Z', 'Europe/Berlin', true],
  // Berlin, autumn: 02:xx happens twice and matches both times.
  ['* 2 * * *', '2026-10-25T00:30:00Z', 'Europe/Berlin', true],
  ['* 2 * * *', '2026-10-25T01:30:00Z', 'Europe/Berlin', true],
  ['* 2 * * *', '2026-10-25T02:00:00Z', 'Europe/Berlin', false],
  ['* 8-17 * * mon-fri', '2026-10-23T06:30:00Z', 'Europe/Berlin', true],
  ['* 8-17 * * mon-fri', '2026-10-26T06:30:00Z', 'Europe/Berlin', false],
  ['* 8-17 * * mon-fri', '2026-10-26T07:30:00Z', 'Europe/Berlin', true],
  // New York, spring.
  ['* 2 * * *', '2026-03-08T06:59:00Z', 'America/New_York', false],
  ['* 2 * * *', '2026-03-08T07:00:00Z', 'America/New_York', false],
  ['* 3 * * *', '2026-03-08T07:00:00Z', 'America/New_York', true],
  ['* 9-17 * * mon-fri', '2026-03-06T13:30:00Z', 'America/New_York', false],
  ['* 9-17 * * mon-fri', '2026-03-09T13:30:00Z', 'America/New_York', true],
  // New York, autumn: 01:xx twice.
  ['* 1 * * *', '2026-11-01T05:30:00Z', 'America/New_York', true],
  ['* 1 * * *', '2026-11-01T06:30:00Z', 'America/New_York', true],
  ['* 1 * * *', '2026-11-01T07:30:00Z', 'America/New_York', false],
  ['0 9 * * mon-fri', '2026-11-02T13:00:00Z', 'America/New_York', false],
  ['0 9 * * mon-fri', '2026-11-02T14:00:00Z', 'America/New_York', true],
];

describe('cron periods', () => {
  it.each([...GITLAB_RUNNER, ...DST])('%s at %s (%s) → %s', (period, at, tz, expected) => {
    expect(cronMatches(parseCron(period), new Date(at), tz)).toBe(expected);
  });

  it.each([
    ['* * * *', /5 fields/],
    ['* * 9-17 * * mon-fri *', /5 fields/],
    ['61 * * * *', /minute/],
    ['* * * * fri-mon', /larger/],
    ['*/0 * * * *', /stepping/],
    ['* * L * *', /no L, W, # or \?/],
    ['* * 15W * *', /no L, W, # or \?/],
    ['* * * * 5#2', /no L, W, # or \?/],
    ['* * ? * *', /no L, W, # or \?/],
  ])('rejects %s', (period, reason) => {
    expect(() => parseCron(period)).toThrow(period);
    expect(() => parseCron(period)).toThrow(reason);
  });

  it('names the period and the zone when the zone is unknown', () => {
    expect(() => cronMatches(parseCron('* * * * *'), new Date(), 'Mars/Base')).toThrow(
      /"\* \* \* \* \*" in time zone "Mars\/Base"/,
    );
  });

  it('answers each second of a minute alike, and the next minute afresh (the match is kept per minute)', () => {
    const period = parseCron('*/15 * * * *');
    const at = (iso: string) => cronMatches(period, new Date(iso));
    expect([at('2026-03-02T10:30:00Z'), at('2026-03-02T10:30:59Z')]).toEqual([true, true]);
    expect([at('2026-03-02T10:31:00Z'), at('2026-03-02T10:31:30Z')]).toEqual([false, false]);
    expect(at('2026-03-02T10:45:01Z')).toBe(true);
    // Going back in time (a clock set back) asks again too.
    expect(at('2026-03-02T10:31:10Z')).toBe(false);
    // The same period in another zone is kept apart.
    expect(cronMatches(parseCron('* 9 * * *'), new Date('2026-03-02T08:15:00Z'), 'Europe/Berlin')).toBe(true);
    expect(cronMatches(parseCron('* 9 * * *'), new Date('2026-03-02T08:15:20Z'), 'UTC')).toBe(false);
  });
});
