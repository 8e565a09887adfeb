/**
 * What runner managers report about their autoscaled fleets (`POST /api/v4/runners/fleet`) and the
 * provider pauses administrators ask for, kept in the store so every coordinator replica on one
 * database sees the same reports and requests.
 */
import type { MachineReport, ManualSetting, ProviderReport } from '../../api/fleet-report.js';

/** The latest report of one manager (`systemId`) for one runner. */
export interface FleetReportRecord {
  runnerId: number;
  systemId: string;
  runnerName: string | null;
  providers: ProviderReport[];
  machines: MachineReport[];
  reportedAt: Date;
}

/** The latest hand-set pause an administrator asked for, per runner and provider. */
export interface ProviderWantRecord {
  runnerId: number;
  provider: string;
  manual: ManualSetting;
  requestedAt: Date;
  userId: number;
}

export interface FleetStore {
  /** Replaces the report of (runnerId, systemId). */
  saveFleetReport(input: FleetReportRecord): Promise<void>;
  /** The runner's reports, one per manager, by systemId; every registered runner's when omitted. */
  listFleetReports(runnerId?: number): Promise<FleetReportRecord[]>;
  /** Replaces the request for (runnerId, provider). */
  setProviderWant(input: ProviderWantRecord): Promise<ProviderWantRecord>;
  /** The runner's requests by provider name. */
  listProviderWants(runnerId: number): Promise<ProviderWantRecord[]>;
}
