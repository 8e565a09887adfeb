/**
 * What a simulated day's machines cost with each provider's billing rules: every machine is billed
 * for the time it existed (booting, busy, idle and being deleted), per second, with the
 * provider's minimum. Hourly rates are list prices of a comparable 2-vCPU machine, for
 * illustration; the billing rules (per-second, minimum) are what shapes the comparison.
 */
export interface PriceRule {
  name: string;
  /** US dollars per machine-hour. */
  perHour: number;
  /** Minimum billed seconds per machine. */
  minimumSeconds: number;
  /** Minimum charge per machine in dollars (DigitalOcean: $0.01), 0 = none. */
  minimumCharge: number;
  /** Billing step in seconds (1 = per second). */
  incrementSeconds: number;
}

export const PRICES: readonly PriceRule[] = [
  // GCE: per-second billing after a 1-minute minimum; e2-standard-2, us-central1.
  { name: 'gce', perHour: 0.067, minimumSeconds: 60, minimumCharge: 0, incrementSeconds: 1 },
  // DigitalOcean Droplets since 2026-01-01: per second, minimum 60 s or $0.01 (the higher);
  // Basic 2 vCPU / 4 GB ($24/month).
  { name: 'digitalocean', perHour: 0.0357, minimumSeconds: 60, minimumCharge: 0.01, incrementSeconds: 1 },
  // EC2 Linux on-demand: per second, 60 s minimum; m6i.large, us-east-1.
  { name: 'ec2', perHour: 0.096, minimumSeconds: 60, minimumCharge: 0, incrementSeconds: 1 },
  // EC2 spot: the same rules at a spot price (it moves; about 40 % of on-demand here).
  { name: 'ec2-spot', perHour: 0.038, minimumSeconds: 60, minimumCharge: 0, incrementSeconds: 1 },
];

/** One machine's bill for `seconds` of life. PURE. */
export function machineCost(rule: PriceRule, seconds: number): number {
  const billed = Math.max(
    rule.minimumSeconds,
    Math.ceil(seconds / rule.incrementSeconds) * rule.incrementSeconds,
  );
  return Math.max(rule.minimumCharge, (billed / 3600) * rule.perHour);
}

/** The day's bill: dollars by provider name. PURE. */
export function dayCost(
  lifetimes: readonly number[],
  rules: readonly PriceRule[] = PRICES,
): Record<string, number> {
  return Object.fromEntries(
    rules.map((r) => [r.name, lifetimes.reduce((sum, s) => sum + machineCost(r, s), 0)]),
  );
}
