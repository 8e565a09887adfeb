/**
 * Registered runners and what their managers report about their autoscaled fleets: the runners
 * aggregate of the store port.
 */
import type { MachineReport, ManualSetting, ProviderReport } from '../../../api/fleet-report.js';
import type { Page, Paged } from './paging.js';

export type RunnerType = 'instance_type' | 'group_type' | 'project_type';
export type AccessLevel = 'not_protected' | 'ref_protected';

export interface RunnerRecord {
  id: number;
  tokenHash: string;
  description: string;
  tagList: string[];
  runUntagged: boolean;
  paused: boolean;
  locked: boolean;
  accessLevel: AccessLevel;
  maximumTimeout: number | null;
  runnerType: RunnerType;
  maintenanceNote: string | null;
  createdAt: Date;
  contactedAt: Date | null;
  version: string | null;
  revision: string | null;
  platform: string | null;
  architecture: string | null;
  executor: string | null;
  ipAddress: string | null;
}

/** The settings of a runner: given at registration, changed by `PUT /runners/:id`. */
type RunnerSetting =
  | 'description'
  | 'tagList'
  | 'runUntagged'
  | 'paused'
  | 'locked'
  | 'accessLevel'
  | 'maximumTimeout'
  | 'maintenanceNote';

/** What registering a runner stores; the rest of the record is the store's or its contacts'. */
export type NewRunner = Pick<RunnerRecord, 'tokenHash' | 'runnerType' | RunnerSetting>;

/** A change of a runner's settings, or what a contact reports about it. */
export type RunnerPatch = Partial<
  Pick<
    RunnerRecord,
    | RunnerSetting
    | 'contactedAt'
    | 'version'
    | 'revision'
    | 'platform'
    | 'architecture'
    | 'executor'
    | 'ipAddress'
  >
>;

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

/**
 * One sample of the queue and the fleet for the web UI's charts. `slot` is the sampling period it
 * belongs to (its time divided by the interval): one sample per slot, whichever replica took it.
 */
export interface FleetSampleRecord {
  slot: number;
  at: Date;
  pending: number;
  oldestWaitSeconds: number;
  machines: number;
}

/**
 * The fleet reports, provider pauses and fleet samples are kept in the store so every coordinator replica on one
 * database sees the same reports and requests.
 */
export interface FleetStore {
  /** Replaces the report of (runnerId, systemId). */
  saveFleetReport(input: FleetReportRecord): Promise<void>;
  /** The runner's reports, one per manager, by systemId; every registered runner's when omitted. */
  listFleetReports(runnerId?: number): Promise<FleetReportRecord[]>;
  /** Replaces the request for (runnerId, provider). */
  setProviderWant(input: ProviderWantRecord): Promise<ProviderWantRecord>;
  /** The runner's requests by provider name. */
  listProviderWants(runnerId: number): Promise<ProviderWantRecord[]>;
  /**
   * Keeps `sample` unless its slot already has one (another replica took it first), and deletes
   * the samples of slots before `keepFromSlot`, so the history stays bounded.
   */
  addFleetSample(sample: FleetSampleRecord, keepFromSlot: number): Promise<void>;
  /** The samples of slots from `fromSlot` on, oldest first. */
  listFleetSamples(fromSlot: number): Promise<FleetSampleRecord[]>;
}

export interface RunnerStore extends FleetStore {
  createRunner(input: NewRunner): Promise<RunnerRecord>;
  getRunner(id: number): Promise<RunnerRecord | null>;
  findRunnerByTokenHash(tokenHash: string): Promise<RunnerRecord | null>;
  listRunners(page: Page): Promise<Paged<RunnerRecord>>;
  updateRunner(id: number, patch: RunnerPatch): Promise<RunnerRecord | null>;
  deleteRunner(id: number): Promise<boolean>;
}
