import { describe, expect, it } from 'vitest';

import { isRetryable, retryAfterMs, waitAfterRefusedRequestMs, waitBeforeRetryMs } from './retry.js';

describe('bench client retries', () => {
  it('retries no answer, 5xx and 429, not other answers', () => {
    expect([null, 500, 502, 503, 429].map(isRetryable)).toEqual([true, true, true, true, true]);
    expect([200, 202, 400, 403, 404, 416].map(isRetryable)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('reads Retry-After as seconds or as a date, capped at 5 minutes', () => {
    const now = Date.parse('2026-12-06T06:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs(['7'], now)).toBe(7000);
    expect(retryAfterMs(new Date(now + 10_000).toUTCString(), now)).toBe(10_000);
    expect(retryAfterMs('86400', now)).toBe(300_000);
    expect(retryAfterMs(undefined, now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBe(0);
    expect(retryAfterMs('-5', now)).toBe(0);
  });

  it('waits the longer of the doubling backoff (1 s to 60 s) and Retry-After', () => {
    expect([1, 2, 3, 7, 8, 10].map((n) => waitBeforeRetryMs(n, 0))).toEqual([
      1000, 2000, 4000, 60_000, 60_000, 60_000,
    ]);
    expect(waitBeforeRetryMs(1, 3000)).toBe(3000);
    expect(waitBeforeRetryMs(4, 3000)).toBe(8000);
    expect(waitAfterRefusedRequestMs(0)).toBe(1000);
    expect(waitAfterRefusedRequestMs(2000)).toBe(2000);
  });
});
