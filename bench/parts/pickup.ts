import type { BenchResult } from '../lib/results.js';
import type { BenchOptions } from '../options.js';

export async function runPickup(_options: BenchOptions): Promise<BenchResult[]> {
  return [];
}
