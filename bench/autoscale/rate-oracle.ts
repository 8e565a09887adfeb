/**
 * A rate-oracle idle pool, for the bench only: what a causal policy could know at best about the
 * simulated days. Pipelines arrive as a Poisson process (bench/autoscale/workload.ts), so the past
 * says nothing about when the next one comes beyond the rate; this pool knows the day's true rate
 * curve and burst-size law (a perfect forecast) and the end of every running job (perfectly
 * predicted durations), not the arrivals. It keeps the q-quantile of the jobs arriving within the
 * next `window` seconds, less the machines running jobs free within it.
 */

/** P(size = s) of a pipeline's burst, s = 0.. (index), as generateWorkload draws it. PURE. */
export function burstSizePmf(): number[] {
  const pmf = new Array<number>(31).fill(0);
  // 15 %: 10–30 jobs, uniform.
  for (let s = 10; s <= 30; s++) pmf[s]! += 0.15 / 21;
  // 85 %: 1 + floor(3·Exp(1)) jobs; the tail past 30 is folded into 30.
  for (let k = 0; k < 29; k++) pmf[k + 1]! += 0.85 * (Math.exp(-k / 3) - Math.exp(-(k + 1) / 3));
  pmf[30]! += 0.85 * Math.exp(-29 / 3);
  return pmf;
}

/**
 * The q-quantile of the jobs of a Poisson(`mu`) number of bursts with sizes from `sizePmf`, at
 * most `cap` (every total ≥ cap counts as cap). PURE.
 */
export function compoundPoissonQuantile(
  mu: number,
  sizePmf: readonly number[],
  q: number,
  cap: number,
): number {
  // Panjer's recursion for the compound Poisson law: g(n) = mu/n · Σ_s s·f(s)·g(n − s).
  const g = [Math.exp(-mu * (1 - (sizePmf[0] ?? 0)))];
  let below = g[0]!;
  for (let n = 0; n < cap; n++) {
    if (below >= q) return n;
    const m = n + 1;
    let sum = 0;
    for (let s = 1; s < sizePmf.length && s <= m; s++) sum += s * (sizePmf[s] ?? 0) * (g[m - s] ?? 0);
    g.push((mu / m) * sum);
    below += g[m]!;
  }
  return cap;
}

export interface RateOracleSettings {
  /** True pipelines per hour at hour h of the day. */
  rate: (h: number) => number;
  /** Seconds ahead the pool covers. */
  window: number;
  /** The quantile of the arrivals within `window` kept ready. */
  q: number;
  /** The most slots it keeps (the fleet's machine cap). */
  cap: number;
}

/** The pool at second `t`, given when the arrived jobs free their machines (`busyUntil`). PURE. */
export function createRateOracle(s: RateOracleSettings): (t: number, busyUntil: readonly number[]) => number {
  const pmf = burstSizePmf();
  return (t, busyUntil) => {
    // Pipelines expected in (t, t + window]: the rate integrated per minute.
    let mu = 0;
    for (let x = t; x < t + s.window; x += 60)
      mu += (s.rate((x % 86_400) / 3600) * Math.min(60, t + s.window - x)) / 3600;
    const freed = busyUntil.filter((end) => end > t && end <= t + s.window).length;
    return Math.max(0, compoundPoissonQuantile(mu, pmf, s.q, s.cap) - freed);
  };
}
