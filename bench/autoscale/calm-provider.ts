/**
 * For the simulation's tests: a provider whose machines all boot in exactly 60 s and that never
 * fails, throttles or runs out of quota, so a test's right answer can be worked out by hand.
 */
import type { SimProviderSettings } from './sim-provider.js';

export const CALM_PROVIDER: SimProviderSettings = {
  boot: { medianSeconds: 60, sigma: 0, minSeconds: 30, maxSeconds: 240 },
  neverReadyRatio: 0,
  createFailureRatio: 0,
  quota: 0,
  mutationsPerMinute: 0,
  listsPerMinute: 0,
  deleteSeconds: 10,
};
