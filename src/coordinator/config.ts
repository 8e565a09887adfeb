import type { ConsulSettings } from '../observability/consul.js';

/** Settings of a coordinator process, resolved by the CLI from flags and the environment. */
export interface CoordinatorConfig {
  /** Base URL runners and git clients use to reach this coordinator, e.g. `http://127.0.0.1:8080`. */
  externalUrl: string;
  /** Where artifacts are stored (files). */
  artifactsDir: string;
  /** How long a `POST /jobs/request` with a current `last_update` is held, in seconds. */
  longPollSeconds: number;
  /** A running job whose runner has not reported for this long fails with `runner_system_failure`. */
  runnerStaleSeconds: number;
  /** Extra seconds past a job's timeout before the coordinator fails it itself. */
  timeoutGraceSeconds: number;
  /** Seconds a `canceling` job may take before it is forced to `canceled`. */
  cancelGraceSeconds: number;
  /** Job timeout when neither the job nor the project sets one (GitLab: 1 h). */
  defaultJobTimeoutSeconds: number;
  /** `X-GitLab-Trace-Update-Interval` while someone reads the log, and otherwise (seconds). */
  traceUpdateIntervalWatched: number;
  traceUpdateIntervalIdle: number;
  /** Largest artifact upload in bytes. */
  maxArtifactBytes: number;
  /** Default `GIT_DEPTH` for jobs. */
  defaultGitDepth: number;
  /** How often the watchdog looks for stale, timed-out and scheduled jobs (seconds). */
  watchdogIntervalSeconds: number;
  /**
   * How old the store read behind announced jobs (`X-Flotilla-Announced-Jobs`, asked for by
   * Flotilla runners with `announced_jobs`) may be, in seconds (default 5): one read per this span,
   * made in the background while requests get the last one (0: each request waits for a read).
   */
  announceRefreshSeconds?: number;
  /** Seconds between two samples of the queue and fleet for the web UI's charts (default 15). */
  fleetSampleSeconds?: number;
  version: string;
  /**
   * Signs web UI session cookies. Replicas behind one address must share it; when unset, each
   * process picks a random one (sessions end when it restarts).
   */
  sessionSecret?: string;
  /** Hours a web UI session lasts. */
  sessionHours?: number;
  /** When set, the coordinator and the managers it lists are registered in this Consul agent. */
  consul?: ConsulSettings;
}

export function defaultCoordinatorConfig(
  overrides: Partial<CoordinatorConfig> & Pick<CoordinatorConfig, 'externalUrl' | 'artifactsDir'>,
): CoordinatorConfig {
  return {
    longPollSeconds: 50,
    runnerStaleSeconds: 600,
    timeoutGraceSeconds: 60,
    cancelGraceSeconds: 300,
    defaultJobTimeoutSeconds: 3600,
    traceUpdateIntervalWatched: 3,
    traceUpdateIntervalIdle: 10,
    maxArtifactBytes: 100 * 1024 * 1024,
    defaultGitDepth: 20,
    watchdogIntervalSeconds: 5,
    version: '0.1.0',
    ...overrides,
  };
}
