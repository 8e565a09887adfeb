/**
 * Per-provider pacing of machine creation: a token bucket (burst, refill per second) and an
 * exponential backoff after API errors (1 s doubling to 60 s, or longer when the API's `Retry-After`
 * asks for it). Clock-driven, no timers. PURE state.
 */
export interface TokenBucket {
  /** Takes up to `wanted` tokens; returns how many were taken. */
  take(wanted: number, nowMs: number): number;
}

/** `limit` tokens per second (-1 = unlimited), at most `burst` stored. */
export function tokenBucket(limit: number, burst: number): TokenBucket {
  let tokens = burst;
  let last: number | null = null;
  return {
    take(wanted, nowMs) {
      if (limit < 0) return wanted;
      if (last !== null) tokens = Math.min(burst, tokens + ((nowMs - last) / 1000) * limit);
      last = nowMs;
      const n = Math.max(0, Math.min(wanted, Math.floor(tokens)));
      tokens -= n;
      return n;
    },
  };
}

export interface Backoff {
  /** True while calls should wait. */
  blocked(nowMs: number): boolean;
  /**
   * Records a failure; returns the delay before the next call: the exponential one, or the server's
   * `Retry-After` (`retryAfterMs`) when longer, honoured up to RETRY_AFTER_CAP_MS.
   */
  failure(nowMs: number, retryAfterMs?: number): number;
  success(): void;
  readonly failures: number;
}

/** The longest `Retry-After` honoured (a larger value, or a hostile one, waits this long). */
export const RETRY_AFTER_CAP_MS = 15 * 60 * 1000;

export function exponentialBackoff(baseMs = 1000, capMs = 60_000): Backoff {
  let until = 0;
  let failures = 0;
  return {
    blocked: (nowMs) => nowMs < until,
    failure(nowMs, retryAfterMs) {
      failures++;
      const exponential = Math.min(capMs, baseMs * 2 ** (failures - 1));
      const asked = Math.min(RETRY_AFTER_CAP_MS, Math.max(0, retryAfterMs ?? 0));
      const delay = Math.max(exponential, asked);
      until = nowMs + delay;
      return delay;
    },
    success() {
      failures = 0;
      until = 0;
    },
    get failures() {
      return failures;
    },
  };
}

/** Resolves after `ms`, when `signal` aborts, or when `wake()` is called (listeners removed after). */
export function wakeableDelay(ms: number, signal: AbortSignal): { done: Promise<void>; wake: () => void } {
  let wake: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(() => wake(), ms);
    wake = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    signal.addEventListener('abort', wake, { once: true });
    if (signal.aborted) wake();
  });
  return { done, wake };
}
