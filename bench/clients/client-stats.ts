/** What the synthetic client process is told and what it reports back. */
export interface ClientSettings {
  url: string;
  /** Runner authentication tokens, shared round-robin by the clients. */
  tokens: string[];
  clients: number;
  /** PATCH trace requests per job and bytes in each. */
  tracePatches?: number;
  traceBytes?: number;
  /** Stop (and report) after this many completed jobs. */
  maxJobs?: number;
  /** Where the figures are written at the end. */
  statsFile: string;
}

export interface ClientStats {
  completed: number;
  /** Requests that failed for good: after the retries, or an answer a runner does not retry. */
  errors: number;
  /**
   * Requests sent again after no answer, a 5xx or a 429 (trace PATCH, final PUT), and job
   * requests that waited for a 503/429's `Retry-After`, as gitlab-runner does.
   */
  retries: { trace: number; update: number; request: number };
  /** Jobs received by a client after some client had already received them (should be 0). */
  duplicates: number;
  /** Job id → epoch ms the client received it. */
  received: Record<string, number>;
  /** Milliseconds per request: 201 job requests, trace PATCHes, status PUTs. */
  latencies: { request201: number[]; trace: number[]; update: number[] };
  firstJobAt: number | null;
  lastJobAt: number | null;
  /** CPU (user + system, s) the client process used between its first job and its last. */
  cpuSecondsWhileJobs?: number;
}

export function requestLatencies(): ClientStats['latencies'] {
  return { request201: [], trace: [], update: [] };
}
