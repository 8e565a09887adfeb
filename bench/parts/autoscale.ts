import type { BenchResult } from '../lib/results.js';
import type { BenchOptions } from '../options.js';

export async function runAutoscale(_options: BenchOptions): Promise<BenchResult[]> {
  return [];
}
