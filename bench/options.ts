/** Options of a bench run (from the command line). */
export interface BenchOptions {
  /** Fewer rounds and jobs: a smoke run, not figures to publish. */
  quick: boolean;
}
