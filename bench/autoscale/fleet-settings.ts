/** The settings both simulated fleets (Flotilla's taskscaler and the docker+machine baseline) share. */
import type { SimProviderSettings } from './sim-provider.js';

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
  /** Seeds the provider's randomness (boot times, failures). */
  seed: number;
}

/** Seconds simulated at most after the day so queued jobs finish; machine-minutes count the day only. */
export const DAY_SECONDS = 86_400;
export const DRAIN_SECONDS = 4 * 3600;
