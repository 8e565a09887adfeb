/** Order statistics for benchmark samples: medians, percentiles (nearest rank), ratios. */

export function percentile(samples: readonly number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

export function median(samples: readonly number[]): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? 0;
  return sorted.length % 2 === 1 ? hi : (hi + (sorted[mid - 1] ?? hi)) / 2;
}

/** `a / b`, or null when either side is missing or b is zero. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return round(a / b, 3);
}

export function round(value: number | null | undefined, digits = 1): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** p50/p95/p99 of a sample, rounded. */
export function summary(
  samples: readonly number[],
  digits = 1,
): { p50: number | null; p95: number | null; p99: number | null; n: number } {
  return {
    p50: round(percentile(samples, 50), digits),
    p95: round(percentile(samples, 95), digits),
    p99: round(percentile(samples, 99), digits),
    n: samples.length,
  };
}
