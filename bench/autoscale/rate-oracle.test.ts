import { describe, expect, it } from 'vitest';

import { burstSizePmf, compoundPoissonQuantile, createRateOracle } from './rate-oracle.js';

describe('burstSizePmf', () => {
  it('is the generator’s law: no empty burst, 15 % of 10–30 jobs, a mean of about 6 jobs', () => {
    const pmf = burstSizePmf();
    expect(pmf.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(pmf[0]).toBe(0);
    // 1 + floor(3·Exp(1)) = 1 has probability 1 − e^(−1/3).
    expect(pmf[1]).toBeCloseTo(0.85 * (1 - Math.exp(-1 / 3)), 12);
    // Mean: 0.15 · 20 + 0.85 · (1 + e^(−1/3) / (1 − e^(−1/3))).
    const mean = pmf.reduce((a, p, s) => a + p * s, 0);
    expect(mean).toBeCloseTo(0.15 * 20 + 0.85 * (1 + Math.exp(-1 / 3) / (1 - Math.exp(-1 / 3))), 2);
  });
});

describe('compoundPoissonQuantile', () => {
  it('is the Poisson quantile when every burst is one job', () => {
    const ones = [0, 1];
    // Poisson(1): P(0) = 0.368, P(≤ 1) = 0.736, P(≤ 2) = 0.920, P(≤ 3) = 0.981.
    expect([0.3, 0.5, 0.9, 0.95].map((q) => compoundPoissonQuantile(1, ones, q, 40))).toEqual([0, 1, 2, 3]);
    expect(compoundPoissonQuantile(0, ones, 0.99, 40)).toBe(0);
  });

  it('scales with the burst size and stops at the cap', () => {
    expect(compoundPoissonQuantile(1, [0, 0, 1], 0.9, 40)).toBe(4);
    // Bursts of 1 or 3 jobs, half each, one burst expected: P(0) = e^−1, P(1) = e^−1/2, P(2) = e^−1/8.
    const p2 = Math.exp(-1) * (1 + 0.5 + 0.125);
    expect(compoundPoissonQuantile(1, [0, 0.5, 0, 0.5], p2 - 1e-9, 40)).toBe(2);
    expect(compoundPoissonQuantile(1, [0, 0.5, 0, 0.5], p2 + 1e-9, 40)).toBe(3);
    expect(compoundPoissonQuantile(100, [0, 1], 0.5, 40)).toBe(40);
  });
});

describe('createRateOracle', () => {
  const pmf = burstSizePmf();

  it('keeps the quantile of the window’s expected bursts, less the machines freed within the window', () => {
    const pool = createRateOracle({ rate: () => 60, window: 60, q: 0.9, cap: 40 });
    const k = compoundPoissonQuantile(1, pmf, 0.9, 40);
    expect(k).toBeGreaterThan(2);
    expect(pool(1000, [])).toBe(k);
    // Releases at 1001 and 1060 are within (1000, 1060]; 1000 and 1061 are not.
    expect(pool(1000, [1000, 1001, 1060, 1061])).toBe(k - 2);
    expect(pool(1000, new Array<number>(40).fill(1030))).toBe(0);
  });

  it('integrates the rate over the window, minute by minute', () => {
    // No pipelines before 01:00, one a second after.
    const pool = createRateOracle({ rate: (h) => (h < 1 ? 0 : 3600), window: 120, q: 0.5, cap: 400 });
    expect(pool(3540 - 120, [])).toBe(0);
    expect(pool(3540, [])).toBe(compoundPoissonQuantile(60, pmf, 0.5, 400));
  });
});
