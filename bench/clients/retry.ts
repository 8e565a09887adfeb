/**
 * How the bench's synthetic runner clients retry, as gitlab-runner does (issue 12): a trace PATCH
 * or a final PUT that gets no answer, a 5xx or a 429 is sent again, up to MAX_TRIES times, after
 * a backoff of 1 s doubling to 60 s, or the answer's `Retry-After` when that is longer (honoured
 * up to 5 minutes). A job request answered 503 or 429 waits for `Retry-After` (at least 1 s)
 * before the next one. The runner's own rules are in src/runner/trace/trace-sender.ts.
 */

export const MAX_TRIES = 10;
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;
const RETRY_AFTER_MAX_MS = 5 * 60_000;

/** Answers a runner sends again: none at all (`null`), any 5xx, and 429. */
export function isRetryable(status: number | null): boolean {
  return status === null || status === 429 || status >= 500;
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), capped; 0 when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return 0;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms) || ms <= 0) return 0;
  return Math.min(ms, RETRY_AFTER_MAX_MS);
}

/** The wait before try `tryNumber + 1` (tryNumber counts from 1): backoff or Retry-After, the longer. */
export function waitBeforeRetryMs(tryNumber: number, retryAfter: number): number {
  const backoff = Math.min(FIRST_BACKOFF_MS * 2 ** (tryNumber - 1), MAX_BACKOFF_MS);
  return Math.max(backoff, retryAfter);
}

/** The wait after a job request the coordinator refused for now (503/429): Retry-After, at least 1 s. */
export function waitAfterRefusedRequestMs(retryAfter: number): number {
  return Math.max(FIRST_BACKOFF_MS, retryAfter);
}
