/**
 * A Flotilla extension of the Runner API: `POST /api/v4/runners/fleet`. A runner manager reports,
 * every few seconds and once per autoscaled `[[runners]]` entry (authenticated by that entry's
 * runner token), its providers (paused or not and why, failing, errors) and its machines (state,
 * age, jobs, use count). The answer carries the pauses an administrator asked for through the
 * REST API (`POST /api/v4/runners/:id/providers/:name/pause|unpause|auto`); the manager applies
 * each request once, exactly as `flotilla fleet pause|unpause|auto` does (the hand-set pauses
 * file), and reports the result in its next report.
 *
 * Being pushed by the manager, this works through NAT and needs no credentials for the manager
 * on the coordinator.
 */
import { z } from 'zod';

export const FLEET_REPORT_PATH = '/api/v4/runners/fleet';

/** A hand-set pause: paused, unpaused, or given back to failover (`auto`). */
export const MANUAL_SETTINGS = ['paused', 'unpaused', 'auto'] as const;
export type ManualSetting = (typeof MANUAL_SETTINGS)[number];

export function manualSetting(value: boolean | null | undefined): ManualSetting {
  return value === true ? 'paused' : value === false ? 'unpaused' : 'auto';
}

export function manualValue(setting: ManualSetting): boolean | null {
  return setting === 'paused' ? true : setting === 'unpaused' ? false : null;
}

export const providerReportSchema = z.object({
  name: z.string().min(1).max(200),
  backup: z.boolean(),
  paused: z.boolean(),
  failing: z.boolean(),
  backoff: z.boolean(),
  manual: z.enum(MANUAL_SETTINGS),
  /** Failed provider calls since the manager started. */
  errors: z.number().int().nonnegative(),
  /** Failed provider calls per minute over the last five minutes (absent from older managers). */
  errors_per_minute: z.number().nonnegative().optional(),
});
export type ProviderReport = z.infer<typeof providerReportSchema>;

export const machineReportSchema = z.object({
  id: z.string().min(1).max(500),
  provider: z.string().max(200),
  zone: z.string().max(200).optional(),
  /** creating, idle, acquired, used or removing. */
  state: z.string().max(40),
  age_seconds: z.number().nonnegative(),
  use_count: z.number().int().nonnegative(),
  /** The jobs holding a slot on it now (`job-<id>`). */
  jobs: z.array(z.string().max(100)).max(1000),
});
export type MachineReport = z.infer<typeof machineReportSchema>;

export const fleetReportRequestSchema = z.object({
  token: z.string().min(1),
  system_id: z.string().min(1).max(200),
  runner_name: z.string().max(200).optional(),
  providers: z.array(providerReportSchema).max(100),
  machines: z.array(machineReportSchema).max(10_000),
});
export type FleetReportRequest = z.infer<typeof fleetReportRequestSchema>;

/** One pause an administrator asked for; `requested_at` (ISO) tells a new request from one applied. */
export interface WantedSetting {
  provider: string;
  manual: ManualSetting;
  requested_at: string;
}

export interface FleetReportResponse {
  wanted: WantedSetting[];
  /** Seconds until the next report is wanted. */
  report_interval: number;
}
