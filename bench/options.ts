/** Options of a bench run (from the command line). */
import type { DatabaseOption } from './lib/database.js';

export interface BenchOptions {
  /** Fewer rounds and jobs: a smoke run, not figures to publish. */
  quick: boolean;
  /** The coordinator stores of the pickup and throughput parts; undefined = both when PostgreSQL answers. */
  database?: DatabaseOption;
  /** `--cpu-prof DIR`: the pickup and throughput coordinators write V8 CPU profiles there. */
  cpuProfDir?: string;
  /** `--days normal,slow`: the autoscale part runs these simulated days only (printed, not saved). */
  days?: string[];
  /**
   * `--provider-seed-offset N`: the autoscale part's simulated clouds (boot times, failures) use
   * each day's seed + N, the workloads stay the same: how much the figures owe to one seed
   * (printed, not saved).
   */
  providerSeedOffset?: number;
  /** `--announced MODE`: what Flotilla's `announced_jobs` holds on the staged days (default uncovered). */
  announced?: 'uncovered' | 'next' | 'keep' | 'due';
  /** `--compile-baseline REF`: pipeline creation measured against that commit, in one process. */
  compileBaseline?: string;
}
