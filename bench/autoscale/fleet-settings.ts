/** The settings both simulated fleets (Flotilla's taskscaler and the docker+machine baseline) share. */
import type { AutoscalerConfigInput } from '../../src/autoscaler/autoscaler-config.js';
import type { SimProviderSettings } from './sim-provider.js';
import type { WorkloadJob } from './workload.js';

export interface FleetSettings {
  idleCount: number;
  idleTimeSeconds: number;
  maxMachines: number;
  /** The baseline's check_interval (docker+machine creates and hands out machines on job requests). */
  checkIntervalSeconds: number;
  /** A machine not ready within this is removed (instance_ready_timeout; docker-machine create fails). */
  readyTimeoutSeconds: number;
  provider: SimProviderSettings;
  /**
   * A backup provider (Flotilla only: `backup = true` in the provider group, unpaused after the
   * primary fails for failover_after). docker+machine has no failover; its baseline ignores this.
   */
  backup?: SimProviderSettings;
  /** Seconds of the simulated day (default 24 h); jobs still queued at its end run on after it. */
  daySeconds?: number;
  /**
   * Flotilla's `update_interval_when_expecting` in seconds (default: the schema's 2 s): how often
   * the provider is listed while machines boot or jobs wait. The baseline lists every check_interval.
   */
  listExpectingSeconds?: number;
  /** `[runners.autoscaler.predictive]` for Flotilla's fleet (the baseline ignores it). */
  predictive?: AutoscalerConfigInput['predictive'];
  /**
   * The day before, run first through Flotilla's fleet (not measured): what a manager that was
   * already running has learned (the predictive policy's time-of-day history).
   */
  yesterday?: readonly WorkloadJob[];
  /**
   * Flotilla only: the jobs of a later stage are acquired as announced (as a Flotilla coordinator
   * marks a job that was `created` before it was pending): with `announced_jobs`, the demand model
   * does not count them as burst arrivals.
   */
  markAnnounced?: boolean;
  /**
   * Flotilla only: the announcement the taskscaler sees is refreshed every this many seconds
   * (default 1: every simulated second), as a manager learns it only when a job request is
   * answered (a long poll can hold one for up to its window).
   */
  announceEverySeconds?: number;
  /** Seeds the provider's randomness (boot times, failures). */
  seed: number;
  /**
   * Flotilla only, bench-only policies: the idle slots (idle_count) to keep at second `t`, given
   * when the jobs that arrived hold their machines until (running jobs: their end; jobs still
   * waiting: t + their duration, the soonest they can end); set every second in place of
   * `idleCount`.
   */
  idleSlotsAt?: (t: number, busyUntil: readonly number[]) => number;
}

/** Seconds simulated at most after the day so queued jobs finish; machine-minutes count the day only. */
export const DAY_SECONDS = 86_400;
export const DRAIN_SECONDS = 4 * 3600;
