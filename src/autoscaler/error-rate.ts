/**
 * Provider errors per minute over a sliding window, from the cumulative error counters the
 * manager keeps (`flotilla_provider_api_errors_total`). The fleet report sends the rate beside
 * the count since start, so the Fleet page shows whether a provider is failing now, not only
 * that it failed once.
 */

/** The window the fleet report's `errors_per_minute` covers. */
export const ERROR_RATE_WINDOW_MS = 5 * 60_000;

interface Sample {
  atMs: number;
  counts: ReadonlyMap<string, number>;
}

export interface ErrorRateWindow {
  /** Records the counters read at `atMs` and returns each provider's errors per minute. */
  record(atMs: number, counts: ReadonlyMap<string, number>): Map<string, number>;
}

/**
 * The rate is (count now − count at the oldest sample in the window) ÷ the minutes between them,
 * with at least one minute below it so that a first error right after start reads as 1/min,
 * not as hundreds. A counter that went down (a manager restarted) starts the window again.
 */
export function createErrorRateWindow(startMs: number, windowMs = ERROR_RATE_WINDOW_MS): ErrorRateWindow {
  // The counters start at zero with the manager, so errors read at the first report are recent.
  let samples: Sample[] = [{ atMs: startMs, counts: new Map() }];
  return {
    record(atMs, counts) {
      const restarted = samples.some((s) => [...s.counts].some(([p, n]) => (counts.get(p) ?? 0) < n));
      if (restarted) samples = [];
      samples.push({ atMs, counts: new Map(counts) });
      samples = samples.filter((s, i) => i === samples.length - 1 || atMs - s.atMs <= windowMs);
      const oldest = samples[0] ?? { atMs, counts };
      const minutes = Math.max(1, (atMs - oldest.atMs) / 60_000);
      const rates = new Map<string, number>();
      for (const [provider, n] of counts) {
        const delta = n - (oldest.counts.get(provider) ?? 0);
        rates.set(provider, Math.round((delta / minutes) * 100) / 100);
      }
      return rates;
    },
  };
}
